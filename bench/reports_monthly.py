"""Benchmark: the monthly report over 200 components and 90 days of status history.

Runs on PostgreSQL (a throw-away database, default vigil_bench_reports). Creates 200 components
(in 10 groups) with 90 days of status changes (an outage or a partial outage every few days each,
kept as the status page keeps them: the change rows plus the daily uptime rows the rollup
writes), 2,000 alerts, 100 incidents, 30 maintenance windows, 500 failed deliveries and 20 SLOs.
Then it times, for the last complete month:
- the report (reports.builder.report_build): must take under 2 s;
- the same report plus the mail's context with its PNG chart (reports.services.report_context);
- as the baseline, in the same run: the uptime API's own figures for the same components and
  span (statuspage.uptime.figures_for + percentage, what the page computes), so the ratio says
  what the report's other sections cost on top of reading the uptime.

    .venv/bin/python bench/reports_monthly.py [--components 200] [--days 90] [--repeat 3]
"""

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from _report import emit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BASE = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
NAME = os.environ.get("BENCH_DATABASE", "vigil_bench_reports")
BENCH = "reports_monthly"
NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def prepare_database() -> None:
    with psycopg.connect(f"{BASE}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {NAME}")


def make_world(count: int, days: int) -> list:
    from alerts.models import Alert
    from notifications.models import Channel, Delivery, Message
    from reports.models import ServiceLevelObjective
    from statuspage.models import (
        Component,
        ComponentGroup,
        ComponentStatusChange,
        Incident,
        IncidentComponent,
        Maintenance,
    )
    from statuspage.uptime import component_uptime_refresh

    rng = random.Random(20)
    start = NOW - timedelta(days=days)
    groups = ComponentGroup.objects.bulk_create(
        ComponentGroup(name=f"Region {g}", position=g) for g in range(10)
    )
    components = Component.objects.bulk_create(
        Component(
            name=f"Service {i}", group=groups[i % 10], position=i, created_at=start, status_changed_at=start
        )
        for i in range(count)
    )
    changes = []
    for component in components:
        at = start + timedelta(hours=rng.randint(1, 72))
        while at < NOW - timedelta(hours=2):
            bad = rng.choice(["major_outage", "partial_outage", "degraded_performance"])
            back = at + timedelta(minutes=rng.randint(2, 180))
            changes.append(
                ComponentStatusChange(
                    component=component, from_status="operational", to_status=bad, at=at, source="probe"
                )
            )
            changes.append(
                ComponentStatusChange(
                    component=component, from_status=bad, to_status="operational", at=back, source="probe"
                )
            )
            at = back + timedelta(hours=rng.randint(24, 120))
    ComponentStatusChange.objects.bulk_create(changes, batch_size=5000)
    for component in components:
        component_uptime_refresh(component, since=start, now=NOW)
    Alert.objects.bulk_create(
        Alert(
            title=f"alert {i}",
            fingerprint=f"bench:{i}",
            severity=rng.choice(["critical", "high", "medium", "low"]),
            status="resolved",
            fired_at=(fired := start + timedelta(minutes=rng.randint(0, days * 1440 - 600))),
            first_acknowledged_at=fired + timedelta(minutes=rng.randint(1, 30)),
            resolved_at=fired + timedelta(minutes=rng.randint(31, 600)),
        )
        for i in range(2000)
    )
    for i in range(100):
        began = start + timedelta(hours=rng.randint(0, days * 24 - 10))
        incident = Incident.objects.create(
            title=f"Incident {i}",
            status="resolved",
            impact="major",
            started_at=began,
            resolved_at=began + timedelta(hours=2),
        )
        IncidentComponent.objects.bulk_create(
            IncidentComponent(incident=incident, component=c, status="major_outage")
            for c in rng.sample(components, 3)
        )
    for i in range(30):
        begins = start + timedelta(hours=rng.randint(0, days * 24 - 10))
        window = Maintenance.objects.create(
            title=f"Window {i}",
            scheduled_for=begins,
            scheduled_until=begins + timedelta(hours=2),
            status="completed",
        )
        window.components.add(*rng.sample(components, 5))
    channel = Channel.objects.create(name="ops mail", kind="email", destination="ops@example.com")
    message = Message.objects.create(kind="alert.firing", subject="x", severity="high", dedup_key="bench")
    Delivery.objects.bulk_create(
        Delivery(
            message=message,
            channel=channel,
            kind="email",
            recipient=f"r{i}@example.com",
            idempotency_key=f"bench:{i}",
            status="failed",
            give_up_at=NOW,
            last_error="550 no such user",
        )
        for i in range(500)
    )
    # updated_at is auto_now: put the failures inside the month.
    Delivery.objects.update(updated_at=NOW - timedelta(days=10))
    for i, component in enumerate(components[:20]):
        ServiceLevelObjective.objects.create(name=f"SLO {i}", component=component, target_percent="99.9")
    return components


def timed(function, repeat: int) -> float:
    """Best wall time in ms of `repeat` runs (the first also warms the caches)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--components", type=int, default=200)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    prepare_database()
    os.environ.update(
        DATABASE_URL=f"{BASE}/{NAME}",
        DEBUG="0",
        SECRET_KEY="bench-" * 10,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import time_machine
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.builder import report_build, report_components
    from reports.services import last_complete_period, report_context
    from statuspage import uptime
    from statuspage.models import ComponentStatusChange, ComponentUptimeDay

    call_command("migrate", verbosity=0)
    print(f"creating {args.components} components with {args.days} days of history ...", flush=True)
    make_world(args.components, args.days)
    print(
        f"  {ComponentStatusChange.objects.count():,} status changes, "
        f"{ComponentUptimeDay.objects.count():,} uptime days",
        flush=True,
    )
    with time_machine.travel(NOW, tick=False):
        period = last_complete_period("monthly", NOW)
        components = report_components()

        def page_figures():
            figures = uptime.figures_for(components, days=period.days + 1, now=NOW)
            return {pk: uptime.percentage(f) for pk, f in figures.items()}

        def report():
            return report_build(period, report_components(), now=NOW)

        def report_and_mail():
            return report_context(report_build(period, report_components(), now=NOW), name="Monthly")

        baseline = timed(page_figures, args.repeat)
        took = timed(report, args.repeat)
        with_mail = timed(report_and_mail, args.repeat)
        with CaptureQueriesContext(connection) as queries:
            data = report()
    print(
        f"  {period.first} to {period.last}: report {took:.0f} ms, with the mail's context and chart "
        f"{with_mail:.0f} ms, the page's uptime figures alone {baseline:.0f} ms; {len(queries)} queries; "
        f"{data['incidents']['count']} incidents, {sum(data['alerts_by_severity'].values())} alerts"
    )
    note = f"{args.components} components, {args.days} days of history; {len(queries)} queries"
    emit(
        BENCH,
        f"monthly report, {args.components} components",
        took,
        "ms",
        target=("<", 2000),
        baseline=(baseline, "the uptime API's figures for the same components and span"),
        note=note,
    )
    emit(
        BENCH,
        "monthly report with the mail's context and PNG chart",
        with_mail,
        "ms",
        baseline=(took, "the report alone"),
    )


if __name__ == "__main__":
    main()
