#!/usr/bin/env python3
"""Benchmark (not a test): the notification outbox sending e-mail to a loopback SMTP sink.

    python bench/notifications_email.py                 # PostgreSQL database vigil_bench_notify
    python bench/notifications_email.py --embedded      # SQLite in a temporary folder
    python bench/notifications_email.py --emails 10000 --fanout 100000 --workers 1

1. Writes a message to N e-mail recipients through message_enqueue (as a producer would) and
   sends them with the sweeper's code path (claim batches, one SMTP connection per batch) to an
   aiosmtpd sink running in a subprocess. Prints e-mails/s and the peak RSS of the sender.
   Target: at least 1,000 e-mails/s from 2 workers on a 2-core machine. The sink offers
   PIPELINING, as Postfix does, so the envelope of an e-mail goes in one write.
2. Writes fan-outs of 1,000, 10,000 and 100,000 recipients (from a generator, as from a
   subscriber queryset), each in a fresh process, and prints each one's peak RSS: it must stay
   flat whatever the count.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import emit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SINK = """
import asyncio, socket, sys, time
from aiosmtpd.controller import Controller
class Sink:
    count = 0
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # Offers pipelining, as Postfix and the large relays do.
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]
    async def handle_DATA(self, server, session, envelope):
        Sink.count += len(envelope.rcpt_tos)
        return "250 OK"
with socket.socket() as s:
    s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print(port, flush=True)
cpu = time.process_time()
sys.stdin.readline()
print(Sink.count, time.process_time() - cpu, flush=True)
controller.stop()
"""


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--fanout", type=int, default=100_000)
    parser.add_argument(
        "--workers", type=int, default=2, help="sender processes sharing the outbox (Procfile: concurrency 2)"
    )
    parser.add_argument("--embedded", action="store_true", help="SQLite instead of PostgreSQL")
    return parser.parse_args()


def configure(args) -> None:
    os.environ.setdefault("VIGIL_DATA_DIR", tempfile.mkdtemp(prefix="vigil-bench-notify-"))
    os.environ["LOG_LEVEL"] = "WARNING"
    # Production settings: with DEBUG=1 Django keeps every SQL string it ran in memory.
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    if args.embedded:
        for name in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"):
            os.environ.pop(name, None)
    else:
        os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vigil_bench_notify")
        create_database(os.environ["DATABASE_URL"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def create_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def reset() -> None:
    from notifications.models import Channel, Delivery, DeliveryAttempt, Message, StaffNotification

    for model in (DeliveryAttempt, StaffNotification, Delivery, Message, Channel):
        model.objects.all().delete()


def subscribers(count: int, offset: int = 0):
    from notifications.services import EmailRecipient

    for i in range(offset, offset + count):
        yield EmailRecipient(
            f"subscriber{i}@example.com",
            {
                "unsubscribe_url": f"https://status.example/unsubscribe/{i:08d}",
                "unsubscribe_one_click_url": f"https://status.example/api/status/unsubscribe/{i:08d}",
            },
        )


def enqueue(count: int, key: str):
    from django.db import transaction

    from notifications.services import message_enqueue

    with transaction.atomic():
        return message_enqueue(
            kind="incident.update",
            subject="Investigating elevated API error rates",
            template="",
            context={
                "body": "We are investigating elevated error rates on the public API.",
                "url": "https://s/i/1",
            },
            severity="high",
            dedup_key=key,
            channels=[],
            emails=subscribers(count),
        )


def sender_process() -> None:
    """One extra worker (for --workers > 1): runs the sweeper until nothing is due."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.db import connection

    from notifications.services import deliveries_send_due

    connection.ensure_connection()
    print("ready", flush=True)
    sys.stdin.readline()  # start together with the main sender, so start-up is not timed
    cpu = time.process_time()
    report = deliveries_send_due(budget=170)
    print(report.sent, time.process_time() - cpu, flush=True)


def bench_send(args) -> bool:
    from django.conf import settings

    from config.env import SMTP_BACKEND
    from notifications.models import Delivery
    from notifications.services import deliveries_send_due

    sink = subprocess.Popen(
        [sys.executable, "-c", SINK], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    port = int(sink.stdout.readline())
    settings.EMAIL_BACKEND = SMTP_BACKEND
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    env = {**os.environ, "EMAIL_URL": f"smtp://127.0.0.1:{port}"}
    try:
        started = time.perf_counter()
        enqueue(args.emails, "bench:send")
        written = time.perf_counter() - started
        print(f"enqueue: {args.emails} deliveries written in {written:.2f} s")
        helpers = [
            subprocess.Popen(
                [sys.executable, __file__, "--sender"],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            for _ in range(args.workers - 1)
        ]
        for helper in helpers:
            assert helper.stdout.readline().strip() == "ready"
        started = time.perf_counter()
        for helper in helpers:
            helper.stdin.write("go\n")
            helper.stdin.flush()
        cpu = time.process_time()
        report = deliveries_send_due(budget=170)
        sender_cpu = time.process_time() - cpu
        helper_sent = 0
        for helper in helpers:
            count, seconds = helper.communicate(timeout=200)[0].split()
            helper_sent, sender_cpu = helper_sent + int(count), sender_cpu + float(seconds)
        elapsed = time.perf_counter() - started
    finally:
        sink.stdin.write("\n")
        sink.stdin.flush()
        received, sink_cpu = sink.stdout.readline().split()
        received, sink_cpu = int(received), float(sink_cpu)
        sink.wait(timeout=10)
    sent = Delivery.objects.filter(status="sent").count()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"send: {sent} e-mails marked sent ({report.sent} here + {helper_sent} in {args.workers - 1} other "
        f"workers), {received} received by the sink, in {elapsed:.2f} s"
    )
    print(f"send: {sent / elapsed:.0f} e-mails/s (target >= 1,000); peak RSS of the sender {peak_mb:.0f} MB")
    per_mail = (sender_cpu + sink_cpu) / max(sent, 1) * 1000
    print(
        f"cpu: {sender_cpu / max(sent, 1) * 1000:.2f} ms per e-mail in the senders + "
        f"{sink_cpu / max(sent, 1) * 1000:.2f} ms in the SMTP sink (PostgreSQL's own CPU not counted): "
        f"two idle cores would carry about {2000 / per_mail:.0f} e-mails/s"
    )
    if sent != args.emails or received != args.emails:
        print("!!! not every e-mail was sent exactly once")
    emit(
        "notifications_email",
        f"{args.emails:,} e-mails through the outbox to a loopback SMTP sink",
        sent / elapsed,
        "e-mails/s",
        target=(">=", 1000),
        note=f"{args.workers} sender processes; peak RSS {peak_mb:.0f} MB; "
        f"CPU estimate for two idle cores {2000 / per_mail:.0f} e-mails/s",
    )
    return sent == received == args.emails


def fanout_child(size: int) -> None:
    """Write one fan-out in this fresh process and print seconds and peak RSS (MB)."""
    args = argparse.Namespace(embedded=os.environ.get("DATABASE_URL") is None)
    configure(args)
    reset()
    started = time.perf_counter()
    enqueue(size, f"bench:fanout:{size}")
    elapsed = time.perf_counter() - started
    print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, flush=True)
    reset()


def bench_fanout(args) -> None:
    """Each size in a fresh process, so its peak RSS is its own: flat memory means the
    100,000-recipient write peaks where the 1,000-recipient one does."""
    peaks = {}
    for size in sorted({1000, min(10_000, args.fanout), args.fanout}):
        output = subprocess.run(
            [sys.executable, __file__, "--fanout-child", str(size)],
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        ).stdout.split()
        elapsed, peak_mb = float(output[0]), float(output[1])
        print(
            f"fan-out write: {size:>7} recipients in {elapsed:6.2f} s "
            f"({size / elapsed:,.0f} rows/s), peak RSS of the process {peak_mb:.0f} MB"
        )
        peaks[size] = (elapsed, peak_mb)
    largest = max(peaks)
    emit(
        "notifications_email",
        f"fan-out write of {largest:,} recipients, peak RSS",
        peaks[largest][1],
        "MB",
        baseline=(peaks[1000][1], "the 1,000-recipient write's"),
        ratio_target=("<=", 1.25),  # flat: memory must not grow with the recipients
        note=f"written in {peaks[largest][0]:.1f} s",
    )


def main() -> None:
    if "--sender" in sys.argv:
        sender_process()
        return
    if "--fanout-child" in sys.argv:
        fanout_child(int(sys.argv[sys.argv.index("--fanout-child") + 1]))
        return
    args = parse_args()
    configure(args)
    from django.conf import settings
    from django.db import connection

    print(
        f"database: {connection.vendor}; batch size {settings.NOTIFICATIONS_BATCH_SIZE}; "
        f"workers {args.workers}"
    )
    reset()
    exactly_once = bench_send(args)
    reset()  # here, so the fan-out processes start from empty tables
    bench_fanout(args)
    reset()
    if not exactly_once:
        sys.exit(1)


if __name__ == "__main__":
    main()
