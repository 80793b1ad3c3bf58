"""Portfolio monitoring: a lender's registered subjects, the triggers about them, and signed webhooks."""
