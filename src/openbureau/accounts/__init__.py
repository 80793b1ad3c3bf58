"""Accounts: the account states furnished for each reporting period, and the questions asked of them."""
