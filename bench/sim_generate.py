"""Cost of the market generator against the number of persons (should grow linearly).

Usage: ``python bench/sim_generate.py [--large] [--event-months N]`` generates 10k, 20k and 40k persons (and
100k with ``--large``) over 12 months (the last 3 with daily lending-event files) into a temporary directory
and prints seconds, records, lending events, records per second, and the ratio of the time per person at the
largest size to the time per person at the smallest (about 1 when the cost is linear).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from openbureau.sim import generate


def main() -> None:
    """Run the benchmark and print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also run 100,000 persons")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--event-months", type=int, default=3, help="months with daily lending-event files")
    args = parser.parse_args()
    sizes = [10_000, 20_000, 40_000] + ([100_000] if args.large else [])
    per_person: dict[int, float] = {}
    print(f"{'persons':>8} {'months':>6} {'seconds':>8} {'records':>10} {'events':>9} {'records/s':>10} "
          f"{'us/person-month':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        generate(persons=2_000, months=2, seed=1, out=Path(tmp) / "warmup", end_period="2025-06")
        for n in sizes:
            summary = generate(persons=n, months=args.months, seed=1, out=Path(tmp) / str(n), end_period="2025-06",
                               event_months=args.event_months)
            per_person[n] = summary.seconds / n
            print(f"{n:>8} {args.months:>6} {summary.seconds:>8.2f} {summary.records:>10,} {summary.events:>9,} "
                  f"{summary.records / summary.seconds:>10,.0f} {1e6 * per_person[n] / args.months:>16.1f}")
    print(f"time per person, largest / smallest size: {per_person[sizes[-1]] / per_person[sizes[0]]:.2f}")


if __name__ == "__main__":
    main()
