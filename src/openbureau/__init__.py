"""OpenBureau: an open-source consumer credit reference platform."""

import os
import sys

__version__ = "0.1.0"

# Polars runs a lazy query on its streaming engine unless told otherwise. The bureau's queries are over a
# chunk or a batch already in memory; for the small batches of the live bureau (an event batch of a few
# rows, a consent import) the streaming engine's fixed cost per query is a large part of the work:
# validating a batch of 5 lending events took 22 ms of wall time on it against 10.5 ms in memory, and
# 17-18.5 ms of CPU against 13.5-17 ms, while a 50,000-row batch took about the same on both
# (docs/performance.md). An environment setting of the operator's own wins.
if "POLARS_ENGINE_AFFINITY" not in os.environ:
    os.environ["POLARS_ENGINE_AFFINITY"] = "in-memory"
    if "polars" in sys.modules:  # imported before us: tell it the setting changed
        sys.modules["polars"].Config.set_engine_affinity("in-memory")
