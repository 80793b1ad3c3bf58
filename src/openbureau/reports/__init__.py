"""Inquiries and the consolidated credit report: who may look, what they see, and the log of every look."""
