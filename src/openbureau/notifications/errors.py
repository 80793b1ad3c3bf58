"""Error codes of the notifications domain."""

CHANNEL_NOT_CONFIGURED = "NOTIFY_CHANNEL_NOT_CONFIGURED"
