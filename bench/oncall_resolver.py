"""Benchmark: who is on call, 10,000 lookups in one schedule, and the admin's 14-day view.

Pure computation (oncall.resolver; the plan is read from the database once, which the tests
count): a Europe/Berlin schedule with a weekly primary rotation of 8 people, a business-hours
layer of 4, a weekend-nights layer every 12 hours and 200 overrides, asked at random instants
over a year (both clock changes inside). Target: 10,000 lookups under 1 s. The baseline is the
floor any answer pays, turning each instant into the schedule's local time once; the ratio
says how many such conversions a lookup costs.

    .venv/bin/python bench/oncall_resolver.py [--lookups 10000] [--repeat 5]
"""

import argparse
import random
import sys
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from _report import emit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from oncall.resolver import Layer, Override, Plan, local_instant, on_call_many, timeline  # noqa: E402

ZONE = ZoneInfo("Europe/Berlin")
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)


def plan(overrides: int, seed: int) -> Plan:
    rng = random.Random(seed)
    layers = (
        Layer(1, tuple(range(1, 9)), "weekly", date(2024, 12, 30), time(9)),
        Layer(
            2, (11, 12, 13, 14), "daily", date(2024, 12, 30), time(9),
            weekdays=frozenset(range(5)), covers_from=time(9), covers_to=time(17),
        ),
        Layer(
            3, (21, 22, 23), "hours", date(2024, 12, 28), time(20), shift_hours=12,
            weekdays=frozenset({5, 6}), covers_from=time(20), covers_to=time(8),
        ),
    )  # fmt: skip
    swaps = []
    for n in range(overrides):
        start = YEAR_START + timedelta(hours=rng.randrange(365 * 24))
        swaps.append(Override(rng.randrange(1, 9), start, start + timedelta(hours=rng.choice([2, 8, 24])), n))
    return Plan(ZONE, layers, tuple(swaps))


def best_of(repeat: int, work) -> float:
    times = []
    for _ in range(repeat):
        started = clock.perf_counter()
        work()
        times.append(clock.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--overrides", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    schedule = plan(args.overrides, seed=1)
    rng = random.Random(2)
    instants = [YEAR_START + timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(args.lookups)]

    def cold():
        local_instant.cache_clear()  # nothing remembered from an earlier round
        on_call_many(schedule, instants)

    lookups = best_of(args.repeat, cold)
    floor = best_of(args.repeat, lambda: [at.astimezone(ZONE) for at in instants])
    fortnight = best_of(args.repeat, lambda: timeline(schedule, YEAR_START, YEAR_START + timedelta(days=14)))
    shifts = len(timeline(schedule, YEAR_START, YEAR_START + timedelta(days=14)))
    print(
        f"{args.lookups:,} lookups: {lookups * 1000:.1f} ms ({lookups / args.lookups * 1e6:.1f} µs each); "
        f"local-time floor {floor * 1000:.1f} ms; 14-day view {fortnight * 1000:.1f} ms ({shifts} shifts)"
    )
    emit(
        "oncall_resolver",
        f"who is on call, {args.lookups:,} lookups (3 layers, {args.overrides} overrides)",
        lookups * 1000,
        "ms",
        target=("<", 1000),
        baseline=(floor * 1000, "the same instants turned to local time"),
    )
    emit(
        "oncall_resolver",
        "who is on call, the admin's 14-day view (one timeline)",
        fortnight * 1000,
        "ms",
        target=("<", 100),
    )


if __name__ == "__main__":
    main()
