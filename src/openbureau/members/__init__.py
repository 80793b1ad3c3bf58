"""Member institutions, their roles and API keys."""
