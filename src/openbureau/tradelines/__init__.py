"""Tradelines: a person's accounts as the bureau publishes them, month by month.

Built from stored account states: the newest version of each month, deleted records left out, negative
status furnished without a notice held back (Art. 15), and negative information whose retention period
has run out hidden (and purged by the retention job). Reports, risk signals and scores all read a person's
file through here, so that they cannot disagree about what the file says.
"""
