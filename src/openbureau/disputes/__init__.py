"""Disputes: a person's challenge to an item of their file, its legal deadline and its outcome."""
