from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from monitoring.ingest import ingested_total
from monitoring.models import Metric

pytestmark = pytest.mark.django_db
URL = "/api/operations/metrics"


@pytest.fixture
def api(staff_token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {staff_token}")
    return client


def point(**overrides) -> dict:
    return {"name": "orders", "value": 3, "metric_type": "business", "category": "throughput", **overrides}


def test_it_ingests_one_point(api):
    response = api.post(URL, point(unit="orders", source="shop", tags={"region": "eu"}), format="json")
    assert response.status_code == 201, response.json()
    metric = Metric.objects.get()
    assert (metric.name, metric.value, metric.source, metric.tags) == (
        "orders",
        3.0,
        "shop",
        {"region": "eu"},
    )


def test_it_ingests_a_batch_with_every_field_intact(api, django_capture_on_commit_callbacks):
    at = datetime(2026, 11, 23, 12, 0, 0, 250000, tzinfo=UTC)
    points = [
        point(value=i, timestamp=(at + timedelta(seconds=i)).isoformat(), endpoint="api/x", tags={"n": i})
        for i in range(1000)
    ]
    points[0]["tags"] = {"quote": 'a "b"\\ \t\n c'}
    points[1]["timestamp"] = at.timestamp()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, {"points": points}, format="json")
    assert response.status_code == 201 and response.json() == {"written": 1000}
    assert Metric.objects.count() == 1000
    first = Metric.objects.get(value=0)
    assert first.tags == {"quote": 'a "b"\\ \t\n c'} and first.timestamp == at and first.endpoint == "api/x"
    assert Metric.objects.get(value=1).timestamp == at
    assert ingested_total() == 1000


def test_it_takes_a_time_without_offset_as_utc(api):
    api.post(URL, [point(timestamp="2026-11-23T10:00:00")], format="json")
    assert Metric.objects.get().timestamp == datetime(2026, 11, 23, 10, tzinfo=UTC)


def test_it_rejects_the_whole_batch_naming_each_bad_index_and_field(api):
    points = [
        point(),
        point(value="high"),
        point(metric_type="weather", category="Bad Category"),
        "not an object",
        point(timestamp=(timezone.now() + timedelta(days=1)).isoformat(), colour="red"),
        point(),
    ]
    response = api.post(URL, points, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {
        "points[1].value",
        "points[2].metric_type",
        "points[2].category",
        "points[3]",
        "points[4].timestamp",
        "points[4].colour",
    }
    assert "future" in errors["points[4].timestamp"][0]
    assert not Metric.objects.exists()


def test_it_rejects_points_older_than_retention(api, settings):
    settings.METRICS_RETENTION_DAYS = 7
    old = (timezone.now() - timedelta(days=8)).isoformat()
    response = api.post(URL, [point(timestamp=old)], format="json")
    assert response.status_code == 400 and "retention" in response.json()["errors"]["points[0].timestamp"][0]


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"points": "x"},
        5,
        [point(name="x" * 201)],
        [point(value=10**400)],
        [point(value=True)],
        [point(name="a\x00b")],
        [point(source="a\x00b")],
        [point(tags={"k": "a\x00b"})],
        [point(tags={"k": 10**400})],
        [point(tags={"k": [1]})],
        [point(timestamp=10**20)],
        [point(timestamp="not a time")],
    ],
)
def test_it_rejects_unusable_batches(api, body):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert not Metric.objects.exists()


def test_it_rejects_nan_values(api):
    # NaN is not JSON; a careless client sends it anyway.
    response = api.post(URL, '[{"name": "x", "value": NaN}]', content_type="application/json")
    assert response.status_code == 400


def test_it_refuses_more_than_ten_thousand_points(api):
    response = api.post(URL, [point()] * 10_001, format="json")
    assert response.status_code == 413
    assert "10000" in response.json()["detail"]
    assert not Metric.objects.exists()


def test_it_refuses_a_body_over_the_byte_limit(api, settings):
    settings.METRICS_INGEST_MAX_BYTES = 1024
    response = api.post(URL, [point(source="x" * 90)] * 20, format="json")
    assert response.status_code == 413


def test_it_takes_json_only(api):
    response = api.post(URL, {"name": "x", "value": "1"}, format="multipart")
    assert response.status_code == 415 and not Metric.objects.exists()


def test_it_rejects_malformed_json(api):
    response = api.post(URL, "{nope", content_type="application/json")
    assert response.status_code == 400 and "detail" in response.json()


def test_it_needs_a_staff_token(client, django_user_model):
    assert APIClient().post(URL, point(), format="json").status_code in (401, 403)
    user = django_user_model.objects.create_user("plain", password="pw-plain-123")
    from rest_framework.authtoken.models import Token

    plain = APIClient()
    plain.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert plain.post(URL, point(), format="json").status_code == 403
    assert not Metric.objects.exists()


def test_it_writes_all_or_nothing(monkeypatch):
    from monitoring import ingest, writer

    points = ingest.points_validate([point(value=i) for i in range(50)])
    real_copy = writer._copy

    def copy_then_fail(batch):
        real_copy(batch)
        raise RuntimeError("connection lost mid-batch")

    monkeypatch.setattr(writer, "_copy", copy_then_fail)
    monkeypatch.setattr(
        Metric.objects, "bulk_create", lambda *a, **k: (Metric.objects.create(**point()), 1 / 0)
    )
    with pytest.raises((RuntimeError, ZeroDivisionError)):
        ingest.metric_points_write(points=points)
    assert not Metric.objects.exists()
