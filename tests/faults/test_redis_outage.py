"""Redis (cache and broker) killed under a running installation: the web server, a Celery worker,
beat, and a private redis-server that the test kills by pid and starts again on the same port.

What must hold: the public page keeps serving from the database, readiness says which
dependency is gone, a staff request that announces an update stays fast and loses nothing (the
outbox rows wait in PostgreSQL), and once Redis is back every mail goes out exactly once with
nobody touching anything (beat's sweeper finds the rows)."""

import time

import pytest
import requests

from notifications.models import Delivery, Message
from statuspage.models import Incident
from tests.faults.processes import wait_until
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.factories import SubscriberFactory

pytestmark = pytest.mark.django_db(transaction=True)

SUBSCRIBERS = 20
SWEEP_SECONDS = 5


def put_update(web, token: str, incident_id: int, message: str) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.put(
        web.url(f"/api/status/admin/incidents/{incident_id}"),
        json={"status": "identified", "message": message},
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    )
    return response, time.monotonic() - started


def pending_deliveries(message: Message) -> int:
    return Delivery.objects.filter(message=message, status=Delivery.Status.PENDING).count()


def test_it_serves_the_page_reports_redis_and_sends_every_mail_once_redis_is_back(
    processes, smtp_sink, test_database_url, staff_token, tmp_path
):
    ComponentFactory(name="Checkout API")
    people = [SubscriberFactory().email for _ in range(SUBSCRIBERS)]
    redis = processes.redis()
    env = {
        "DATABASE_URL": test_database_url,
        "CELERY_BROKER_URL": redis.url(0),
        "REDIS_URL": redis.url(1),
        "EMAIL_URL": smtp_sink.url,
        "NOTIFICATIONS_SWEEP_INTERVAL": str(SWEEP_SECONDS),
        # Every change also queues a rewrite of the static copy of the page: one more publish.
        "STATUSPAGE_PUBLISH_DIR": str(tmp_path / "published"),
    }
    web = processes.web(env=env)
    # Three processes: whatever else runs when Redis dies, one is free and waiting on the queue
    # (a BRPOP in flight), the case that made kombu's clean-up crash the worker (config/broker.py).
    worker = processes.worker(env=env, concurrency=3)
    processes.beat(env=env)

    # Before the fault: the update is mailed through the broker as usual.
    created = requests.post(
        web.url("/api/status/admin/incidents"),
        json={"title": "Checkout errors", "message": "We are investigating."},
        headers={"Authorization": f"Token {staff_token}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    incident = Incident.objects.get()
    wait_until(lambda: smtp_sink.total() == SUBSCRIBERS, timeout=30, what="the first announcement")
    assert requests.get(web.url("/health/ready"), timeout=10).status_code == 200

    # Redis dies while the worker is busy: a slow mail server holds a send task (unacknowledged,
    # acks_late) and the worker's other process waits on the queue.
    smtp_sink.hold()
    response, _ = put_update(web, staff_token, incident.pk, "Found a bad deploy.")
    assert response.status_code == 200, response.text
    wait_until(lambda: smtp_sink.held, timeout=30, what="a send task to wait on the mail server")
    redis.kill()
    time.sleep(0.5)  # the worker notices the lost broker; it used to exit here (config/broker.py)
    smtp_sink.release()
    wait_until(lambda: smtp_sink.total() == 2 * SUBSCRIBERS, timeout=30, what="the held send to finish")
    time.sleep(1)  # a worker shutting down exits once its running task is done
    assert worker.alive() and "Unrecoverable error" not in worker.output(), worker.tail()

    page = requests.get(web.url("/"), timeout=10)
    assert page.status_code == 200
    assert "Checkout API" in page.text and "Checkout errors" in page.text
    started = time.monotonic()
    ready = requests.get(web.url("/health/ready"), timeout=10)
    assert ready.status_code == 503
    assert time.monotonic() - started < 3
    assert {"cache", "broker"} <= set(ready.json()["failed"])

    # The producer: two staff updates while Redis is down. Each answers at once and writes its
    # deliveries; nothing is sent, nothing fails, nothing is lost.
    timings = []
    for note in ("Rolling back.", "Rolled back; watching."):
        response, seconds = put_update(web, staff_token, incident.pk, note)
        assert response.status_code == 200, response.text
        timings.append(seconds)
    print(f"update request with Redis down: {', '.join(f'{t:.2f} s' for t in timings)}")
    assert max(timings) < 2
    waiting = list(Message.objects.filter(kind="incident.updated").order_by("pk"))[1:]
    assert len(waiting) == 2
    time.sleep(SWEEP_SECONDS)  # a sweep interval passes: beat cannot reach the worker
    assert [pending_deliveries(m) for m in waiting] == [SUBSCRIBERS, SUBSCRIBERS]
    assert smtp_sink.total() == 2 * SUBSCRIBERS
    assert requests.get(web.url("/"), timeout=10).status_code == 200

    back = time.monotonic()
    redis.start()
    wait_until(
        lambda: smtp_sink.total() >= 4 * SUBSCRIBERS, timeout=60, what="the held mails after Redis came back"
    )
    print(f"every held mail sent {time.monotonic() - back:.1f} s after Redis came back")
    time.sleep(1)  # anything sent twice would arrive now
    assert smtp_sink.counts() == {address: 4 for address in people}
    assert worker.alive() and "Unrecoverable error" not in worker.output()
    assert not Delivery.objects.exclude(status=Delivery.Status.SENT).exists()
    wait_until(
        lambda: requests.get(web.url("/health/ready"), timeout=10).status_code == 200,
        timeout=10,
        what="readiness to recover",
    )
