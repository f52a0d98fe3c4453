"""Benchmark: one escalation sweep over many due alerts, each paging people by their own rules.

Runs on PostgreSQL (a throw-away database, default vigil_bench_escalation). Creates 500 people
(each with a verified e-mail and push method and high-urgency rules: e-mail at once, push after
2 minutes), 50 schedules (a daily rotation of 10 people each, in Europe/Berlin) and one escalation
policy per schedule whose first step pages whoever is on call and one more person. Then it times
one sweep (alerts.services.alerts_escalate_due) with 100 and with 1,000 firing alerts due:
- the 1,000-alert sweep must take under 1 s;
- its query count must not grow with the alerts (the same as at 100).

    .venv/bin/python bench/escalation_sweep.py [--people 500] [--schedules 50] [--alerts 100,1000]
"""

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from _report import emit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BASE = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
NAME = os.environ.get("BENCH_DATABASE", "vigil_bench_escalation")
BENCH = "escalation_sweep"


def prepare_database() -> None:
    with psycopg.connect(f"{BASE}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {NAME}")


def make_world(people: int, schedules: int, now: datetime) -> list:
    """The people, their methods and rules, the schedules and one rule per schedule."""
    from django.contrib.auth import get_user_model

    from alerts.models import AlertRule
    from oncall.models import ContactMethod, EscalationPolicy, NotificationRule, Schedule
    from oncall.policies import StepSpec, policy_save
    from oncall.services import LayerSpec, schedule_save

    User = get_user_model()
    users = User.objects.bulk_create(
        User(username=f"person{i}", email=f"person{i}@example.com", is_staff=True) for i in range(people)
    )
    methods = ContactMethod.objects.bulk_create(
        ContactMethod(user=u, kind=kind, address=address, verified_at=now)
        for u in users
        for kind, address in (("email", u.email), ("push", f"{u.username}-pager"))
    )
    NotificationRule.objects.bulk_create(
        NotificationRule(
            user_id=m.user_id, urgency="high", contact_method=m, delay_minutes=0 if m.kind == "email" else 2
        )
        for m in methods
    )
    rules = []
    per = max(1, people // schedules)
    for s in range(schedules):
        members = users[s * per : (s + 1) * per] or users[:1]
        schedule = schedule_save(
            schedule=Schedule(name=f"Team {s}", time_zone="Europe/Berlin"),
            layers=[
                LayerSpec(
                    level=1,
                    starts_on=date(2026, 1, 1),
                    handoff_time=datetime.min.time(),
                    members=members,
                    rotation="daily",
                )
            ],  # fmt: skip
        )
        policy = policy_save(
            policy=EscalationPolicy(name=f"Team {s}"),
            steps=[
                StepSpec(level=1, escalate_after_minutes=1, schedules=[schedule], users=[members[-1]]),
                StepSpec(level=2, escalate_after_minutes=10, users=[members[0]]),
            ],
        )
        rules.append(
            AlertRule.objects.create(
                name=f"team {s} up",
                metric_name="up",
                threshold=1,
                severity="critical",
                escalation_policy=policy,
            )
        )
    return rules


def due_alerts(rules: list, count: int, now: datetime) -> None:
    from alerts.models import Alert

    Alert.objects.bulk_create(
        Alert(
            rule=rules[i % len(rules)],
            title=f"alert {i}",
            severity="critical",
            fingerprint=f"bench:{count}:{i}",
            fired_at=now - timedelta(minutes=1),
            next_escalation_at=now,
        )
        for i in range(count)
    )


def timed_sweep(now: datetime) -> tuple[float, float, int, int]:
    """Wall time, this process's CPU time (what the machine's load does not inflate), queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from alerts.services import alerts_escalate_due

    with CaptureQueriesContext(connection) as queries:
        started, cpu = time.perf_counter(), time.process_time()
        fired = alerts_escalate_due(now=now, limit=10_000)
        took = (time.perf_counter() - started) * 1000
        cpu = (time.process_time() - cpu) * 1000
    return took, cpu, len(queries), fired


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--schedules", type=int, default=50)
    parser.add_argument("--alerts", default="100,1000", help="alert counts to sweep, comma-separated")
    args = parser.parse_args()
    counts = [int(n) for n in args.alerts.split(",")]
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
    from django.core.management import call_command

    from alerts.models import Alert
    from notifications.models import Delivery, Message

    call_command("migrate", verbosity=0)
    now = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # Sunday 03:00 in Berlin
    print(f"creating {args.people} people, {args.schedules} schedules ...", flush=True)
    rules = make_world(args.people, args.schedules, now)
    results = {}
    for count in counts:
        Alert.objects.all().delete()
        Delivery.objects.all().delete()
        Message.objects.all().delete()
        due_alerts(rules, count, now)
        took, cpu, queries, fired = timed_sweep(now)
        pages = Delivery.objects.filter(person__isnull=False).count()
        print(
            f"  sweep over {count:,} due alerts: {took:.0f} ms ({cpu:.0f} ms CPU here), {queries} queries, "
            f"{fired} fired, {pages:,} pages"
        )
        results[count] = (took, queries, cpu)
    small, big = min(counts), max(counts)
    emit(
        BENCH,
        f"sweep, {big:,} due alerts",
        results[big][0],
        "ms",
        target=("<", 1000),
        note=f"{results[big][1]} queries; {args.people} people, {args.schedules} schedules",
    )
    emit(
        BENCH,
        f"sweep queries, {big:,} vs {small:,} alerts",
        results[big][1],
        "queries",
        baseline=(results[small][1], f"queries with {small:,} alerts"),
        ratio_target=("<=", 1.0),
    )
    emit(BENCH, f"sweep, {small:,} due alerts", results[small][0], "ms", note=f"{results[small][1]} queries")
    emit(
        BENCH,
        f"sweep CPU in the worker, {big:,} due alerts",
        results[big][2],
        "ms",
        note="process time of the sweeping process (the database's own work not included)",
    )


if __name__ == "__main__":
    main()
