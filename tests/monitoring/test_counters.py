"""Event counters: counted in memory, one metric row per series and flush."""

import threading
import time

import pytest

from monitoring import counters, timing
from monitoring.counters import CounterKind, counter_add, flush_counters
from monitoring.models import Metric

pytestmark = pytest.mark.django_db

KIND = CounterKind(name="test.events", metric_type="application", category="events")


@pytest.fixture(autouse=True)
def _empty():
    counters.aggregator.take()
    yield
    counters.aggregator.take()


def test_it_writes_one_row_per_series_with_the_count_as_value():
    for _ in range(3):
        counter_add(KIND, labels={"component": "1"})
    counter_add(KIND, labels={"component": "2"})
    flush_counters()
    rows = sorted((m.tags["component"], m.value) for m in Metric.objects.filter(name="test.events"))
    assert rows == [("1", 3.0), ("2", 1.0)]


def test_it_writes_nothing_on_add():
    counter_add(KIND, labels={"component": "1"})
    assert not Metric.objects.filter(name="test.events").exists()


def test_it_counts_from_many_threads_without_losing_one():
    def hammer():
        for _ in range(2000):
            counter_add(KIND, labels={"component": "1"})

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert list(counters.aggregator.take().values()) == [16000]


def test_it_bounds_the_series_it_holds(monkeypatch):
    monkeypatch.setattr(counters, "MAX_SERIES", 2)
    results = [counter_add(KIND, labels={"component": str(i)}) for i in range(3)]
    assert results == [True, True, False]


def test_it_drops_an_interval_when_the_database_is_away(monkeypatch):
    counter_add(KIND, labels={"component": "1"})
    monkeypatch.setattr(
        counters, "metrics_write", lambda rows: (_ for _ in ()).throw(RuntimeError("db down"))
    )
    assert flush_counters() == 0 and counters.aggregator.take() == {}


@pytest.mark.django_db(transaction=True)
def test_it_is_flushed_by_the_request_timing_thread():
    counter_add(KIND, labels={"component": "bg"})
    flusher = timing._Flusher()
    flusher.ensure_running(0.2)
    try:
        deadline = time.monotonic() + 5
        while not Metric.objects.filter(name="test.events").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        flusher.stop()
    assert Metric.objects.filter(name="test.events").count() == 1
