"""Fraud: rings of persons linked by shared phones and addresses, velocity, synthetic identities, the fraud list."""
