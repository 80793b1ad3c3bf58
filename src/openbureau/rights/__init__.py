"""The person's protections of their file: fraud alerts, security freezes and identity-theft blocks."""
