import threading
import time

import pytest

from monitoring import timing
from monitoring.models import Metric
from monitoring.timing import ERROR_RATE_METRIC, METRIC_NAME, UNMATCHED, aggregator, flush_request_timings

pytestmark = pytest.mark.django_db


def _rows() -> dict:
    return {
        (m.tags["method"], m.endpoint, m.tags["status_class"]): m
        for m in Metric.objects.filter(name=METRIC_NAME)
    }


def test_it_keys_requests_by_route_pattern_and_writes_nothing_on_the_request_path(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        for path in ("/health/live", "/health/live", "/nope/1", "/nope/2", "/health/live?x=1"):
            client.get(path)
    assert flush_request_timings() == 3  # two keys, plus the overall error-rate row
    rows = _rows()
    assert set(rows) == {("GET", "health/live", "2xx"), ("GET", UNMATCHED, "4xx")}
    assert rows[("GET", "health/live", "2xx")].tags["count"] == 3
    assert rows[("GET", UNMATCHED, "4xx")].tags["count"] == 2


def test_it_uses_the_pattern_not_the_path_for_routes_with_parameters(client, staff_user):
    client.force_login(staff_user)
    client.get(f"/admin/auth/user/{staff_user.pk}/change/")
    client.get(f"/admin/auth/user/{staff_user.pk}/change/")
    flush_request_timings()
    (row,) = Metric.objects.filter(name=METRIC_NAME)
    assert row.endpoint == "admin/auth/user/<path:object_id>/change/"
    assert row.tags["count"] == 2


def test_it_flushes_count_mean_p95_max_and_errors_per_key():
    for ms in (10, 20, 30, 40, 100):
        aggregator.record("GET", "api/x", 200, ms)
    aggregator.record("POST", "api/x", 503, 7)
    assert flush_request_timings() == 3
    ok, failed = _rows()[("GET", "api/x", "2xx")], _rows()[("POST", "api/x", "5xx")]
    assert ok.value == 40.0 and ok.unit == "ms" and ok.category == "response_time"
    # p95 of 10,20,30,40,100: rank 3.8 -> 40 + 0.8 * 60 = 88
    assert ok.tags == {
        "method": "GET",
        "status_class": "2xx",
        "count": 5,
        "errors": 0,
        "p95_ms": 88.0,
        "max_ms": 100.0,
    }
    assert (failed.tags["count"], failed.tags["errors"]) == (1, 1)
    assert flush_request_timings() == 0  # the aggregate starts afresh after a flush


def test_it_counts_a_view_that_raises_as_a_5xx_error(client, settings):
    client.raise_request_exception = False
    settings.ROOT_URLCONF = "tests.monitoring.urls_boom"
    client.get("/boom")
    flush_request_timings()
    (row,) = Metric.objects.filter(name=METRIC_NAME)
    assert (row.endpoint, row.tags["status_class"], row.tags["errors"]) == ("boom", "5xx", 1)


def test_it_bounds_memory_per_key_with_a_reservoir():
    for i in range(5000):
        aggregator.record("GET", "r", 200, float(i % 100))
    stats = aggregator.take()[("GET", "r", 2)]
    assert stats.count == 5000 and len(stats.samples) == timing.RESERVOIR_SIZE
    assert stats.max_ms == 99.0


def test_it_aggregates_from_many_threads_without_losing_a_request():
    def hammer():
        for _ in range(2000):
            aggregator.record("GET", "r", 200, 1.0)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert aggregator.take()[("GET", "r", 2)].count == 16000


def test_it_drops_an_interval_instead_of_failing_when_the_database_is_away(monkeypatch):
    aggregator.record("GET", "r", 200, 1.0)
    monkeypatch.setattr(timing, "metrics_write", lambda rows: (_ for _ in ()).throw(RuntimeError("db down")))
    assert flush_request_timings() == 0
    assert aggregator.take() == {}


@pytest.mark.django_db(transaction=True)
def test_it_flushes_from_a_background_thread():
    aggregator.record("GET", "bg", 200, 5.0)
    flusher = timing._Flusher()
    flusher.ensure_running(0.2)
    try:
        deadline = time.monotonic() + 5
        while not Metric.objects.filter(endpoint="bg").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert Metric.objects.filter(endpoint="bg").count() == 1
        assert flusher.thread.daemon and flusher.thread.is_alive()
    finally:
        flusher.stop()
    assert not flusher.thread.is_alive()


def test_it_writes_the_overall_error_rate_beside_the_route_rows():
    for status in (200, 200, 200, 500):
        aggregator.record("GET", "api/x", status, 5)
    aggregator.record("POST", "api/y", 502, 5)
    flush_request_timings()
    row = Metric.objects.get(name=ERROR_RATE_METRIC)
    assert (row.value, row.unit, row.category) == (40.0, "%", "error_rate")
    assert row.tags == {"requests": 5, "errors": 2}
