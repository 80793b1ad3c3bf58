"""OpenBureau: an open-source consumer credit reference platform."""

__version__ = "0.1.0"
