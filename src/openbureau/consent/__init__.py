"""Consents to furnish and to query: who may report or look at whose data, for what purpose, until when."""
