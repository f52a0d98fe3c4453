"""The probe kinds beside HTTP: a TCP connect (optionally with a TLS handshake), a DNS answer, a
TLS certificate, an ICMP echo. Plain data in, plain data out, no database, like http.py.

Each runs under its probe's deadline (probe_round.deadline): core.deadline shuts down every
socket the thread connects when the time is up, so a connect or handshake that hangs ends at
the probe's timeout. DNS queries go over UDP without connecting, which no socket deadline
reaches, so dnspython's own `lifetime` (a total over every try and server) gets the time left;
an ICMP echo is one packet whose wait icmplib bounds by the time left the same way.
"""

import socket
import ssl
import time
from datetime import UTC, datetime

import dns.exception
import dns.resolver
import icmplib

from core import outbound
from healthchecks.probes import tls
from healthchecks.probes.deadline import Round, current_remaining

TLS_DEFAULT_PORT = 443


def _destination_problem(host: str, port: int) -> str:
    """The rule for every place a probe connects to (core.outbound), on a host and port."""
    netloc = f"[{host}]" if ":" in host else host
    return outbound.check_destination(f"http://{netloc}:{port}/", outbound.PROBE) or ""


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _finish_ok(spec, outcome, started: float) -> None:
    outcome.latency_ms = _elapsed_ms(started)
    outcome.ok = True
    outcome.slow = outcome.latency_ms > spec.degraded_latency_ms


def _connect_error(exc: Exception, expired: bool, timeout: float) -> str:
    if expired or isinstance(exc, TimeoutError | socket.timeout):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return f"TLS handshake failed: {exc}"[:500]
    return f"connection failed: {exc}"[:500]


def tcp(spec, outcome, probe_round: Round) -> None:
    problem = _destination_problem(spec.host, spec.port)
    if problem:
        outcome.error = problem
        return
    started = time.perf_counter()
    with probe_round.deadline(spec.timeout) as limit:
        try:
            with socket.create_connection((spec.host, spec.port), timeout=spec.timeout) as sock:
                if spec.tls_handshake:
                    # A verified handshake: a TCP probe with TLS asks "does it speak TLS properly?",
                    # unless staff turned verification off (a self-signed certificate).
                    context = ssl.create_default_context()
                    if not spec.verify_tls:
                        context.check_hostname = False
                        context.verify_mode = ssl.CERT_NONE
                    with context.wrap_socket(sock, server_hostname=spec.host):
                        pass
        except Exception as exc:  # any failure to connect is the probe's result, never a crash
            outcome.latency_ms = _elapsed_ms(started)
            outcome.error = _connect_error(exc, limit.expired, spec.timeout)
            return
    _finish_ok(spec, outcome, started)


def certificate(spec, outcome, probe_round: Round, now: datetime | None = None) -> None:
    """The certificate alone: it must match the host name and not have expired. Its expiry is
    also reported (cert_checked), so the 21/14/7-day warnings of HTTPS probes apply as well."""
    port = spec.port or TLS_DEFAULT_PORT
    problem = _destination_problem(spec.host, port)
    if problem:
        outcome.error = problem
        return
    started = time.perf_counter()
    with probe_round.deadline(spec.timeout) as limit:
        try:
            der = tls.peer_certificate(spec.host, port, timeout=spec.timeout)
            outcome.cert_checked = True
            outcome.cert_expires_at = tls.not_after(der)
            mismatch = tls.hostname_mismatch(der, spec.host)
        except Exception as exc:  # unreachable, no TLS, unreadable certificate: the probe's result
            outcome.latency_ms = _elapsed_ms(started)
            outcome.error = f"timed out after {spec.timeout:g} s" if limit.expired else str(exc)[:500]
            outcome.cert_error = outcome.error[:300] if outcome.cert_checked else ""
            return
    if outcome.cert_expires_at <= (now or datetime.now(UTC)):
        outcome.latency_ms = _elapsed_ms(started)
        outcome.error = f"certificate expired on {outcome.cert_expires_at:%Y-%m-%d %H:%M} UTC"
        return
    if mismatch:
        outcome.latency_ms = _elapsed_ms(started)
        outcome.error = mismatch
        return
    _finish_ok(spec, outcome, started)


def _answer_texts(answer) -> set[str]:
    texts = set()
    for record in answer:
        if record.rdtype == dns.rdatatype.TXT:
            texts.add(b"".join(record.strings).decode(errors="replace"))
        else:
            texts.add(
                record.to_text().rstrip(".").lower() if record.rdtype != dns.rdatatype.A else record.address
            )
    return texts


def _normalised(value: str, record_type: str) -> str:
    return value if record_type == "TXT" else value.rstrip(".").lower()


def dns_lookup(spec, outcome, probe_round: Round) -> None:
    if spec.nameserver:
        # Checked again here: a probe saved before the rule, or a rule (PROBE_ALLOWED_NETWORKS)
        # changed since.
        problem = outbound.address_problem(spec.nameserver, outbound.PROBE)
        if problem:
            outcome.error = f"Vigil may not send DNS queries to {spec.nameserver}: {problem}."
            return
    resolver = dns.resolver.Resolver(configure=spec.nameserver is None)
    if spec.nameserver:
        resolver.nameservers = [spec.nameserver]
        resolver.port = spec.nameserver_port
    started = time.perf_counter()
    with probe_round.deadline(spec.timeout) as limit:
        # dnspython's lifetime bounds the whole resolution; the time left also counts what a
        # cut-off round has already used.
        resolver.lifetime = current_remaining(spec.timeout)
        try:
            answer = resolver.resolve(spec.host, spec.record_type, search=False)
        except dns.resolver.NXDOMAIN:
            outcome.error = f"{spec.host} does not exist (NXDOMAIN)"
        except dns.resolver.NoAnswer:
            outcome.error = f"{spec.host} has no {spec.record_type} record"
        except dns.exception.Timeout:
            outcome.error = f"timed out after {spec.timeout:g} s"
        except Exception as exc:  # a refusing or broken server: the probe's result, never a crash
            outcome.error = f"timed out after {spec.timeout:g} s" if limit.expired else str(exc)[:500]
        if outcome.error:
            outcome.latency_ms = _elapsed_ms(started)
            return
    found = _answer_texts(answer)
    missing = [v for v in spec.expected_values if _normalised(v, spec.record_type) not in found]
    if missing:
        outcome.latency_ms = _elapsed_ms(started)
        outcome.error = f"{spec.record_type} answer for {spec.host} lacks {', '.join(missing)}"[:500]
        return
    _finish_ok(spec, outcome, started)


ICMP_NOT_ALLOWED = (
    "ICMP is not allowed for this process: add its group to the kernel's net.ipv4.ping_group_range "
    "(unprivileged echo sockets) or give it CAP_NET_RAW"
)


def _echo(host: str, timeout: float):
    """One echo, over an unprivileged ICMP socket where the kernel allows one, else a raw socket
    (root or CAP_NET_RAW)."""
    try:
        return icmplib.ping(host, count=1, timeout=timeout, privileged=False)
    except icmplib.SocketPermissionError:
        return icmplib.ping(host, count=1, timeout=timeout, privileged=True)


def icmp(spec, outcome, probe_round: Round) -> None:
    problem = _destination_problem(spec.host, 0)
    if problem:
        outcome.error = problem
        return
    started = time.perf_counter()
    with probe_round.deadline(spec.timeout):
        try:
            reply = _echo(spec.host, current_remaining(spec.timeout))
        except icmplib.SocketPermissionError:
            outcome.error = ICMP_NOT_ALLOWED
        except icmplib.NameLookupError:
            outcome.error = f"{spec.host} does not resolve"
        except Exception as exc:  # an unusable address or socket: the probe's result, never a crash
            outcome.error = f"ICMP echo failed: {exc}"[:500]
    if not outcome.error and not reply.is_alive:
        outcome.error = f"no echo reply within {spec.timeout:g} s"
    if outcome.error:
        outcome.latency_ms = _elapsed_ms(started)
        return
    _finish_ok(spec, outcome, started)
    outcome.latency_ms = round(reply.avg_rtt, 2)  # the echo's own round trip, not the set-up
    outcome.slow = outcome.latency_ms > spec.degraded_latency_ms
