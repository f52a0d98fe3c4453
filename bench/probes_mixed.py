#!/usr/bin/env python3
"""Benchmark: one probe round of 1,000 probes of mixed kinds against loopback servers.

    .venv/bin/python bench/probes_mixed.py [--probes 1000] [--rounds 2] [--concurrency 64]

Of the probes, 40 % are http (a threaded HTTP server), 25 % tcp (a connect to that server's port),
20 % dns (an A record at a UDP DNS responder) and 15 % tls (a certificate read from a TLS server:
a handshake each); icmp echoes to 127.0.0.1 are added (10 %, taken from http) only where the
kernel lets this process open unprivileged ICMP sockets (net.ipv4.ping_group_range), as
production workers run. The servers are the test suite's (tests/healthchecks), in a process of
their own. Runs on PostgreSQL (a throw-away database, default vigil_bench_probes_mixed), each
probe on its own component. Prints each round's time and what it did. Target: a round under 10 s
on a 2-core machine.
"""

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from _report import emit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BASE = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
NAME = os.environ.get("BENCH_DATABASE", "vigil_bench_probes_mixed")


def tls_server(folder: Path):
    """A TLS endpoint that shakes hands in each connection's own thread (a server wrapping its
    listening socket would shake hands one at a time in accept), with an EC key, as most are."""
    import socketserver
    import ssl
    import subprocess
    import threading

    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "90", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile=str(cert), keyfile=str(key))

    class Handshake(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(5)
            try:
                with context.wrap_socket(self.request, server_side=True) as tls:
                    tls.recv(1)  # until the client closes
            except (OSError, ssl.SSLError):
                pass

    server_class = type(
        "Server", (socketserver.ThreadingTCPServer,), {"request_queue_size": 1024, "daemon_threads": True}
    )
    server = server_class(("127.0.0.1", 0), Handshake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def serve(ports, folder: str) -> None:
    """The loopback endpoints, until the benchmark terminates this process."""
    from tests.healthchecks.dns_server import DNSResponder
    from tests.healthchecks.servers import ProbeTarget

    http = ProbeTarget().start()
    http.server.socket.listen(1024)  # a deep backlog: 64 probes connect at once
    dns = DNSResponder({("app.bench.", "A"): ["127.0.0.1"]}).start()
    ports.put({"http": http.port, "tls": tls_server(Path(folder)), "dns": dns.port})
    while True:
        time.sleep(3600)


def unprivileged_icmp() -> bool:
    try:
        low, high = (int(x) for x in Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    except (OSError, ValueError):
        return False
    return any(low <= group <= high for group in {os.getgid(), *os.getgroups()})


def shares(total: int, icmp: bool) -> dict[str, int]:
    counts = {"tcp": total * 25 // 100, "dns": total * 20 // 100, "tls": total * 15 // 100}
    if icmp:
        counts["icmp"] = total * 10 // 100
    counts["http"] = total - sum(counts.values())
    return counts


def prepare_database() -> None:
    with psycopg.connect(f"{BASE}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {NAME}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="vigil-bench-probes-mixed-")
    # The servers start before Django or any thread exists (a clean fork).
    ports = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports, folder), daemon=True)
    server.start()
    os.environ["VIGIL_DATA_DIR"] = folder
    try:
        run(args, ports.get(timeout=60))
    finally:
        server.terminate()
        server.join(5)
        shutil.rmtree(folder, ignore_errors=True)


def run(args, ports: dict) -> None:
    prepare_database()
    os.environ.update(
        DATABASE_URL=f"{BASE}/{NAME}",
        DEBUG="0",
        SECRET_KEY="bench-" * 10,
        ALLOWED_HOSTS="x",
        PROBE_CONCURRENCY=str(args.concurrency),
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Avg
    from django.utils import timezone

    from healthchecks.models import Probe, ProbeResult
    from healthchecks.probes.services import probes_run_due
    from statuspage.models import Component

    call_command("migrate", verbosity=0)
    counts = shares(args.probes, unprivileged_icmp())
    fields = {
        "http": {},
        "tcp": {"host": "127.0.0.1", "port": ports["http"]},
        "dns": {
            "host": "app.bench",
            "record_type": "A",
            "expected_values": ["127.0.0.1"],
            "nameserver": "127.0.0.1",
            "nameserver_port": ports["dns"],
        },
        "tls": {"host": "127.0.0.1", "port": ports["tls"]},
        "icmp": {"host": "127.0.0.1"},
    }
    probes = []
    for kind, count in counts.items():
        url = f"http://127.0.0.1:{ports['http']}/ok" if kind == "http" else ""
        components = Component.objects.bulk_create(
            [Component(name=f"{kind} {i:04d}", health_check_url=url) for i in range(count)]
        )
        probes += [
            Probe(
                component=component,
                kind=kind,
                timeout_seconds=2.0,
                degraded_latency_ms=1000,
                next_due_at=timezone.now(),
                **fields[kind],
            )
            for component in components
        ]
    Probe.objects.bulk_create(probes)
    mix = ", ".join(f"{count} {kind}" for kind, count in counts.items())
    if "icmp" not in counts:
        mix += " (no icmp: the kernel allows this process no unprivileged ICMP socket)"
    print(f"{args.probes} probes: {mix}; concurrency {args.concurrency}", flush=True)
    rounds = []
    for number in range(1, args.rounds + 1):
        Probe.objects.update(next_due_at=timezone.now())
        started_at = timezone.now()
        started = time.perf_counter()
        summary = probes_run_due()
        elapsed = time.perf_counter() - started
        rounds.append(elapsed)
        print(f"round {number}: {elapsed:.2f} s, {summary.claimed / elapsed:.0f} probes/s — {summary}")
        results = ProbeResult.objects.filter(checked_at__gte=started_at)
        for kind in counts:
            of_kind = results.filter(probe__kind=kind)
            latency = of_kind.filter(ok=True).aggregate(mean=Avg("latency_ms"))["mean"] or 0
            errors = sorted(set(of_kind.filter(ok=False).values_list("error", flat=True)))[:2]
            print(
                f"  {kind:<5} {of_kind.filter(ok=False).count():>4} failed, mean latency {latency:.0f} ms"
                f"{' (' + '; '.join(errors) + ')' if errors else ''}",
                flush=True,
            )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    emit(
        "probes_mixed",
        f"probe round, {args.probes:,} probes of mixed kinds (slowest of {args.rounds} rounds)",
        max(rounds),
        "s",
        target=("<", 10),
        note=f"{mix}; {args.probes / max(rounds):.0f} probes/s; concurrency {args.concurrency}",
    )


if __name__ == "__main__":
    main()
