"""Lending events: loans applied for, opened, repaid, late, settled, closed and written off, reported the
day they happen (docs/events.md)."""
