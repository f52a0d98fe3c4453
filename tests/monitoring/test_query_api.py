from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from monitoring.models import MetricType
from monitoring.rollups import metrics_rollup_until_current
from tests.monitoring.factories import MetricFactory

pytestmark = pytest.mark.django_db
INFRA = "/api/operations/infrastructure/metrics"
PERF = "/api/operations/performance/metrics"
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def api(staff_token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {staff_token}")
    return client


def test_it_lists_raw_points_newest_first_for_its_types_only(api):
    MetricFactory(timestamp=T0, value=1)
    MetricFactory(timestamp=T0 + timedelta(seconds=1), value=2, metric_type=MetricType.DATABASE)
    MetricFactory(timestamp=T0, value=3, metric_type=MetricType.BUSINESS, name="orders")
    body = api.get(INFRA).json()
    assert [p["value"] for p in body["results"]] == [2, 1]
    assert body["results"][0]["type"] == "database"
    assert [p["value"] for p in api.get(PERF).json()["results"]] == [3]


def test_it_filters_raw_points(api):
    MetricFactory(timestamp=T0, source="a", tags={"env": "prod"}, value=1)
    MetricFactory(timestamp=T0, source="b", tags={"env": "prod"}, value=2)
    MetricFactory(timestamp=T0 - timedelta(hours=1), source="a", tags={"env": "test"}, value=3)
    query = {"source": "a", "tag": "env:prod", "since": T0.isoformat(), "type": "system"}
    assert [p["value"] for p in api.get(INFRA, query).json()["results"]] == [1]


def test_it_pages_with_a_cursor(api):
    for i in range(5):
        MetricFactory(timestamp=T0 + timedelta(seconds=i), value=i)
    first = api.get(INFRA, {"page_size": 2}).json()
    assert [p["value"] for p in first["results"]] == [4, 3]
    second = api.get(first["next"]).json()
    assert [p["value"] for p in second["results"]] == [2, 1]


def test_it_answers_buckets_computed_by_hand(api):
    for seconds, value in [(0, 1), (10, 2), (20, 3), (30, 4), (50, 10), (70, 7)]:
        MetricFactory(timestamp=T0 + timedelta(seconds=seconds), value=value)
    query = {"interval": "1m", "since": T0.isoformat(), "until": (T0 + timedelta(minutes=2)).isoformat()}
    body = api.get(INFRA, query).json()
    assert body["buckets"] == [
        {
            "start": "2026-11-23T10:00:00Z",
            "count": 5,
            "avg": 4.0,
            "min": 1.0,
            "max": 10.0,
            "p50": 3.0,
            "p90": pytest.approx(7.6),
            "p95": pytest.approx(8.8),
            "p99": pytest.approx(9.76),
        },
        {
            "start": "2026-11-23T10:01:00Z",
            "count": 1,
            "avg": 7.0,
            "min": 7.0,
            "max": 7.0,
            **dict.fromkeys(["p50", "p90", "p95", "p99"], 7.0),
        },
    ]


def test_it_answers_the_same_buckets_from_rollups(api):
    for minute in range(180):
        for k in range(3):
            MetricFactory(timestamp=T0 + timedelta(minutes=minute, seconds=k * 15), value=minute + k)
    query = {"interval": "1h", "since": T0.isoformat(), "until": (T0 + timedelta(hours=3)).isoformat()}
    raw = api.get(INFRA, query).json()
    metrics_rollup_until_current(now=T0 + timedelta(hours=3))
    rolled = api.get(INFRA, query).json()
    assert (raw["from_rollups"], rolled["from_rollups"]) == (0, 3)
    percentiles = ["p50", "p90", "p95", "p99"]
    assert [{k: v for k, v in b.items() if k not in percentiles} for b in rolled["buckets"]] == [
        {k: v for k, v in b.items() if k not in percentiles} for b in raw["buckets"]
    ]
    for rolled_bucket, raw_bucket in zip(rolled["buckets"], raw["buckets"], strict=True):
        for key in percentiles:
            assert rolled_bucket[key] == pytest.approx(raw_bucket[key], rel=0.005)


@pytest.mark.parametrize(
    "query, field",
    [
        ({"interval": "2m"}, "interval"),
        ({"type": "business"}, "type"),
        ({"tag": "no-colon"}, "tag"),
        ({"since": "yesterday"}, "since"),
        ({"interval": "1m", "since": "2026-11-23T10:00:00Z", "until": "2026-11-23T09:00:00Z"}, "since"),
        ({"interval": "1m", "since": "2026-01-01T00:00:00Z", "until": "2026-11-23T09:00:00Z"}, "interval"),
    ],
)
def test_it_rejects_bad_queries_naming_the_field(api, query, field):
    response = api.get(INFRA, query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_it_needs_staff(client):
    assert client.get(INFRA).status_code in (401, 403)
