"""One writer for metric rows: COPY on PostgreSQL, bulk INSERTs elsewhere, same rows either way."""

import pytest
from django.utils import timezone

from monitoring.models import Metric
from monitoring.writer import Point, metrics_write

pytestmark = pytest.mark.django_db

FIELDS = ("metric_type", "category", "name", "value", "unit", "source", "endpoint", "tags", "timestamp")


def _row(**overrides) -> Metric:
    fields = {
        "metric_type": "performance",
        "category": "response_time",
        "name": "probe.response_time",
        "value": 12.5,
        "unit": "ms",
        "source": "api",
        "endpoint": "https://api.example.com/health",
        "tags": {"component_id": 3, "note": "ünïcode \t tab"},
        "timestamp": timezone.now().replace(microsecond=0),
    }
    return Metric(**{**fields, **overrides})


def test_it_writes_unsaved_rows_and_validated_points_alike():
    row = _row()
    assert metrics_write([row, Point.from_metric(_row(name="probe.up", value=1))]) == 2
    stored = {m.name: m for m in Metric.objects.all()}
    assert {f: getattr(stored["probe.response_time"], f) for f in FIELDS} == {
        f: getattr(row, f) for f in FIELDS
    }
    assert stored["probe.up"].tags == row.tags


def test_it_writes_nothing_for_no_rows(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert metrics_write([]) == 0


def test_it_is_what_collection_timing_and_probes_write_with(monkeypatch):
    from healthchecks.probes import services as probe_services
    from monitoring import collection, timing

    for module in (collection, timing, probe_services):
        assert module.metrics_write is metrics_write
