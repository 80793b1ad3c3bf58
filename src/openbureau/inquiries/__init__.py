"""Inquiries: who may look at a person's file and on what basis, and the durable log of every look."""
