"""A Celery worker SIGKILLed in the middle of a 10,000-subscriber fan-out.

An incident is announced to 10,000 confirmed subscribers (one message, one outbox row each,
sent in id ranges by a real worker to a real SMTP server on loopback). Partway through, the mail
server stalls and the whole worker (its main process and each pool process, by pid) is killed
while it waits: a crash, nothing acknowledged, nothing cleaned up. A new worker is started; the
queued ranges and beat's sweeper (once the dead worker's claims expire) finish the job.

What must hold: every subscriber has exactly one mail. (The kill lands while the worker waits on
the server. A kill in the instant between the server's "250 accepted" and the worker's commit of
that one row can still resend that one mail: see notifications/outbox.py.)"""

import time

import pytest

from notifications.models import Delivery
from subscribers.models import Subscriber, SubscriberStatus, new_token
from tests.faults.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SUBSCRIBERS = 10_000
CLAIM_SECONDS = 30  # the shortest lease allowed: how long a dead worker's rows wait
SWEEP_SECONDS = 5

ANNOUNCE = """
from statuspage import services
services.incident_create(title="Payments down", message="Card payments fail; we are on it.")
"""


def seed_subscribers() -> list[str]:
    addresses = [f"subscriber{n}@example.com" for n in range(SUBSCRIBERS)]
    Subscriber.objects.bulk_create(
        [Subscriber(email=a, status=SubscriberStatus.CONFIRMED, manage_token=new_token()) for a in addresses],
        batch_size=2000,
    )
    return addresses


def test_it_mails_every_subscriber_exactly_once_when_the_worker_is_killed_mid_fan_out(
    processes, smtp_sink, test_database_url
):
    started = time.monotonic()
    addresses = seed_subscribers()
    redis = processes.redis()
    env = {
        "DATABASE_URL": test_database_url,
        "CELERY_BROKER_URL": redis.url(0),
        "REDIS_URL": redis.url(1),
        "EMAIL_URL": smtp_sink.url,
        "EMAIL_TIMEOUT": "10",  # the stalled server is waited for this long: longer than the test waits
        "NOTIFICATIONS_CLAIM_SECONDS": str(CLAIM_SECONDS),
        "NOTIFICATIONS_SWEEP_INTERVAL": str(SWEEP_SECONDS),
        "LOG_LEVEL": "WARNING",
    }
    worker = processes.worker(env=env)
    processes.beat(env={**env, "LOG_LEVEL": "INFO"})

    processes.run_python("producer", ANNOUNCE, env=env)
    announced = time.monotonic()
    assert Delivery.objects.count() == SUBSCRIBERS

    wait_until(lambda: smtp_sink.total() >= 1500, timeout=60, what="the fan-out to get going")
    smtp_sink.hold()  # the server stalls: every sender waits at its next RCPT
    wait_until(lambda: smtp_sink.held >= 2, timeout=10, what="both pool processes to wait on the server")
    # While the worker waits, what the server already accepted is on record: a crash now must
    # not send any of it again.
    wait_until(
        lambda: Delivery.objects.filter(status=Delivery.Status.SENT).count() == smtp_sink.total(),
        timeout=3,
        what="every accepted mail to be recorded as sent while the worker waits on the server",
    )
    killed = worker.kill_tree()
    before_kill = smtp_sink.total()
    smtp_sink.release()
    print(f"killed worker pids {killed} after {before_kill} mails")

    processes.worker("worker-2", env=env)
    wait_until(
        lambda: smtp_sink.total() >= SUBSCRIBERS,
        timeout=CLAIM_SECONDS + 60,
        what="every subscriber's mail after the restart",
    )
    wait_until(
        lambda: not Delivery.objects.exclude(status=Delivery.Status.SENT).exists(),
        timeout=10,
        what="every delivery to be recorded as sent",
    )
    done = time.monotonic()
    time.sleep(1)  # a mail sent twice would arrive now

    counts = smtp_sink.counts()
    twice = {address: n for address, n in counts.items() if n != 1}
    assert not twice, f"{len(twice)} subscribers got more than one mail, e.g. {list(twice.items())[:5]}"
    assert sorted(counts) == sorted(addresses)
    print(
        f"{SUBSCRIBERS} mails: last one {done - announced:.1f} s after the announcement "
        f"(test {done - started:.1f} s in all)"
    )
