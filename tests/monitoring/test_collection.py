import io
from collections import namedtuple

import pytest
from django.core.management import call_command
from django.db import connection

from config.celery import BEAT_JOBS
from monitoring import collection
from monitoring.collection import metrics_collect
from monitoring.models import Metric

pytestmark = pytest.mark.django_db
NetCounters = namedtuple("NetCounters", "bytes_sent bytes_recv")


def _values(name: str) -> list[float]:
    return list(Metric.objects.filter(name=name).values_list("value", flat=True))


def test_it_collects_sane_system_readings():
    rows = metrics_collect(host="test-host")
    names = {row.name for row in rows}
    assert {
        "system.cpu_percent",
        "system.load_1m",
        "system.load_5m",
        "system.load_15m",
        "system.memory_percent",
        "system.memory_used",
        "system.swap_percent",
        "system.disk_percent",
        "process.memory_rss",
        "database.round_trip",
        "celery.queue_depth",
    } <= names
    assert all(
        0 <= v <= 100 for n in ("cpu", "memory", "swap", "disk") for v in _values(f"system.{n}_percent")
    )
    assert all(v >= 0 for v in _values("system.load_1m"))
    assert _values("process.memory_rss")[0] > 10_000_000  # a Django process holds tens of MB
    assert 0 < _values("database.round_trip")[0] < 1000
    assert _values("celery.queue_depth")[0] >= 0
    assert all(row.source == "test-host" for row in rows)
    assert Metric.objects.filter(name="system.disk_percent").exclude(tags__mount=None).exists()
    if connection.vendor == "postgresql":
        assert _values("database.connections")[0] >= 1


def test_it_reports_network_rates_from_the_second_run_on():
    first = {row.name for row in metrics_collect(host="h")}
    second = metrics_collect(host="h")
    assert "network.receive_rate" not in first
    rates = [row.value for row in second if row.name.startswith("network.")]
    assert len(rates) == 2 and all(rate >= 0 for rate in rates)


def test_it_computes_the_network_rate_from_counter_deltas(monkeypatch):
    counters = iter([NetCounters(1_000, 5_000), NetCounters(3_000, 45_000), NetCounters(10, 10)])
    monkeypatch.setattr(collection.psutil, "net_io_counters", lambda: next(counters))
    collection._rates("h", 100.0)
    points = {p["name"]: p["value"] for p in collection._rates("h", 110.0)}
    assert points["network.receive_rate"] == 4_000.0  # (45,000 - 5,000) B / 10 s
    assert points["network.transmit_rate"] == 200.0
    # The counters went backwards (reboot): skip the rate rather than report a negative one.
    assert "network.receive_rate" not in {p["name"] for p in collection._rates("h", 120.0)}


def test_it_keeps_collecting_when_the_broker_is_down(settings, closed_port):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port}/0"
    names = {row.name for row in metrics_collect(host="h")}
    assert "celery.queue_depth" not in names and "system.cpu_percent" in names


def test_it_runs_as_a_management_command_and_every_monitoring_job_is_scheduled():
    out = io.StringIO()
    call_command("collect_metrics", stdout=out)
    assert "system.cpu_percent" in out.getvalue()
    assert {"collect_metrics", "rollup_metrics", "purge_old_data"} <= set(BEAT_JOBS)
    assert BEAT_JOBS["collect_metrics"][1] == "METRIC_COLLECTION_INTERVAL"


def test_it_seeds_a_day_of_demo_metrics_once():
    from monitoring.demo import seed_metrics
    from monitoring.models import MinuteRollup

    assert "points over 24 h" in seed_metrics()
    count = Metric.objects.count()
    assert count == 24 * 60 * 8 and MinuteRollup.objects.exists()
    assert "already there" in seed_metrics()
    assert Metric.objects.count() == count
