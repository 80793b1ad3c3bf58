"""Intake: the furnishing standard, file readers, validation, submissions and loading."""
