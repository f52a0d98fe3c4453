"""Idempotency-Key on metric ingest: a resent batch is answered again, never written twice."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from config.retention import old_data_purge
from monitoring import ingest
from monitoring.ingest import Idempotency, metric_points_write, points_validate
from monitoring.models import IngestKey, Metric

URL = "/api/operations/metrics"


def point(name: str = "cpu", value: float = 1) -> dict:
    return {"name": name, "value": value, "metric_type": "system", "category": "cpu"}


def send(api: APIClient, body, key: str | None = "batch-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.post(URL, body, format="json", **headers)


@pytest.fixture
def api(staff_token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {staff_token}")
    return client


@pytest.mark.django_db
def test_it_answers_a_resent_batch_again_without_writing_it_twice(api):
    batch = [point(), point("mem")]
    first, second = send(api, batch), send(api, batch)
    assert (first.status_code, first.json()) == (201, {"written": 2})
    assert (second.status_code, second.json()) == (201, {"written": 2})
    assert second["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Metric.objects.count() == 2


@pytest.mark.django_db
def test_it_takes_the_same_batch_formatted_differently_as_the_same(api):
    send(api, [point()])
    resent = api.post(
        URL,
        '[ {"category": "cpu", "metric_type": "system", "value": 1, "name": "cpu"} ]',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="batch-1",
    )
    assert resent.status_code == 201 and resent["Idempotent-Replayed"] == "true"
    assert Metric.objects.count() == 1


@pytest.mark.django_db
def test_it_answers_422_to_a_key_reused_with_a_different_batch(api):
    send(api, [point()])
    response = send(api, [point(value=2)])
    assert response.status_code == 422
    assert response.json() == {"detail": "This Idempotency-Key was already used with a different batch."}
    assert list(Metric.objects.values_list("value", flat=True)) == [1.0]


@pytest.mark.django_db
def test_it_writes_every_batch_sent_without_a_key(api):
    send(api, [point()], key=None)
    send(api, [point()], key=None)
    assert Metric.objects.count() == 2 and not IngestKey.objects.exists()


@pytest.mark.django_db
def test_it_keeps_no_key_for_a_refused_batch(api):
    assert send(api, [point(value="x")]).status_code == 400
    assert send(api, [point(value=3)]).status_code == 201  # the corrected batch, same key
    assert list(Metric.objects.values_list("value", flat=True)) == [3.0]


@pytest.mark.django_db
def test_it_keeps_each_clients_keys_apart(api, django_user_model):
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    other = django_user_model.objects.create_user("feeder", is_staff=True)
    other.groups.add(Group.objects.get(name="Administrators"))
    other_api = APIClient()
    other_api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=other).key}")
    send(api, [point()])
    assert "Idempotent-Replayed" not in send(other_api, [point(value=2)])
    assert Metric.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "k" * 256, "clé", "tab\there"])
def test_it_refuses_an_unusable_key(api, key):
    response = send(api, [point()], key=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["detail"]
    assert not Metric.objects.exists()


@pytest.mark.django_db
def test_it_forgets_keys_after_a_day(api):
    send(api, [point()])
    IngestKey.objects.update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    send(api, [point()], key="batch-2")
    purged = old_data_purge()
    assert purged["ingest idempotency keys"] == 1
    assert list(IngestKey.objects.values_list("key", flat=True)) == ["batch-2"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the embedded test database is shared-cache in-memory SQLite, which fails a second writer "
    "at once instead of making it wait as a WAL file does: the race is proven on PostgreSQL",
)
def test_it_writes_once_when_the_same_key_arrives_twice_at_once(staff_user, monkeypatch):
    """The second request arrives while the first is still writing: it waits on the first's
    key (the unique index on PostgreSQL, the write lock on SQLite), then replays its answer."""
    points = points_validate([point(), point("mem")])
    key = Idempotency.of(user_id=staff_user.pk, key="batch-1", payload=[point(), point("mem")])
    first_writing, release_first = threading.Event(), threading.Event()
    real_write = ingest.metrics_write

    def slow_first_write(batch):
        if not first_writing.is_set():
            first_writing.set()
            release_first.wait(10)
        return real_write(batch)

    monkeypatch.setattr(ingest, "metrics_write", slow_first_write)
    results, errors = {}, []

    def request(name: str) -> None:
        try:
            results[name] = metric_points_write(points=points, idempotency=key)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=request, args=("first",))
    second = threading.Thread(target=request, args=("second",))
    first.start()
    assert first_writing.wait(10)
    second.start()
    time.sleep(0.5)
    assert second.is_alive(), errors  # held until the first commits
    release_first.set()
    first.join(15)
    second.join(15)
    assert not errors, errors
    assert (results["first"].replayed, results["second"].replayed) == (False, True)
    assert results["second"].written == 2
    assert Metric.objects.count() == 2 and IngestKey.objects.get().written == 2
