"""Batch inquiries: a lender's file of subjects answered row by row, each row an inquiry (docs/batch.md)."""
