"""Risk signals in every report: multi-lending, over-indebtedness, recent delinquency, identity conflicts."""
