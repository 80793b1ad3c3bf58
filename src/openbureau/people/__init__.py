"""The person as a principal: sign-in with an identity document and a one-time code, short sessions, and
the person's rights over their own file (report, inquiries, consents)."""
