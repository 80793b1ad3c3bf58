"""Requests by authorities (a court, the police, a tax office) for a person's report, and their transparency report."""
