"""Notifications to the people in the files: an outbox written with the event, a dispatcher, channels."""
