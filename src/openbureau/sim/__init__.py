"""Synthetic Chinese consumer credit market: persons, furnishers, monthly furnishing files and the truth.

Public API:

* `generate(persons=..., months=..., seed=..., out=..., end_period=None, progress=None)` writes a market
  into a directory and returns a `GenerationSummary`.
* `FURNISHERS` and `SUBSCRIBERS`: the simulated members (codes, roles, formats, consent rates, defects).
* `read_manifest(out)`: the furnishing files in simulated submission order, for replay by a loader.

docs/simulation.md describes the model and its calibration.
"""

from openbureau.sim.config import FURNISHERS, SUBSCRIBERS, FurnisherProfile, SimConfig, SubscriberProfile
from openbureau.sim.generator import GenerationSummary, generate
from openbureau.sim.writer import ManifestEntry, read_manifest

__all__ = [
    "FURNISHERS",
    "SUBSCRIBERS",
    "FurnisherProfile",
    "GenerationSummary",
    "ManifestEntry",
    "SimConfig",
    "SubscriberProfile",
    "generate",
    "read_manifest",
]
