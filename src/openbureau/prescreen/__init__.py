"""Prescreening: a lender's criteria select persons for a firm offer of credit; the persons' opt-out register."""
