"""Synthetic Chinese consumer credit market: persons, furnishers, monthly furnishing files and the truth.

Public API:

* `generate(persons=..., months=..., seed=..., out=..., end_period=None, progress=None)` writes a market
  into a directory and returns a `GenerationSummary`.
* `FURNISHERS` and `SUBSCRIBERS`: the simulated members (codes, roles, formats, consent rates, defects).
* `read_manifest(out)`: the furnishing files in simulated submission order, for replay by a loader.
* `read_event_manifest(out)`: the daily lending-event files, in time order.
* `load_episodes(out)` and `detect(episodes, flags)`: the over-borrowing episodes of the truth, and the share
  of them a bureau would have flagged before their last loan (the benchmark's measure).

docs/simulation.md describes the model and its calibration.
"""

from openbureau.sim.config import FURNISHERS, SUBSCRIBERS, FurnisherProfile, SimConfig, SubscriberProfile
from openbureau.sim.episodes import EpisodeDetection, detect, load_episodes
from openbureau.sim.event_files import EventFileEntry, read_event_manifest
from openbureau.sim.generator import GenerationSummary, generate
from openbureau.sim.writer import ManifestEntry, read_manifest

__all__ = [
    "FURNISHERS",
    "SUBSCRIBERS",
    "EpisodeDetection",
    "EventFileEntry",
    "FurnisherProfile",
    "GenerationSummary",
    "ManifestEntry",
    "SimConfig",
    "SubscriberProfile",
    "detect",
    "generate",
    "load_episodes",
    "read_event_manifest",
    "read_manifest",
]
