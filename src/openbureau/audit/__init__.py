"""The audit log: an append-only, hash-chained record of every access to personal data (docs/audit.md)."""
