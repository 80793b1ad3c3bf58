"""Metering of what each member used, and its monthly statement (docs/membership.md)."""
