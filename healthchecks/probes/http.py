"""Run probes (HTTP here, the other kinds in kinds.py): plain data in, plain data out, no
database (worker threads never touch the ORM) and no Django settings but the one outbound
rule (PROBE_ALLOWED_NETWORKS), so the remote agent runs this very code (healthchecks/agents).

One pooled requests.Session serves a whole round. Every probe's timeout is a deadline over its
whole exchange (connect, headers, body; see deadline.py), so a probe ends by its timeout however
slowly the endpoint answers, and its thread and socket are free again: one hung or trickling
endpoint delays nothing else and leaves nothing behind.
"""

import json
import re
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InsecureRequestWarning

from core import outbound
from core.http_headers import parse_headers
from healthchecks.probes import deadline, kinds, tls

BODY_METHODS = ("POST", "PUT")
MAX_BODY_BYTES = 1024 * 1024  # enough for any health document; a huge body is not read further
USER_AGENT = "Vigil-probe/1.0"
RELEASE_GRACE_SECONDS = 2.0
_MISSING = object()


@dataclass(frozen=True)
class ProbeSpec:
    probe_id: int
    url: str = ""
    kind: str = "http"
    host: str = ""
    port: int | None = None
    tls_handshake: bool = False
    record_type: str = "A"
    expected_values: tuple[str, ...] = ()
    nameserver: str | None = None
    nameserver_port: int = 53
    method: str = "GET"
    request_headers: str = ""  # "Name: value" lines (core.http_headers)
    request_body: str = ""
    basic_auth_user: str = ""
    basic_auth_password: str = ""
    verify_tls: bool = True
    expected_status_codes: tuple[int, ...] = (200,)
    keyword: str = ""
    json_path: str = ""
    json_value: str = ""
    timeout: float = 5.0
    degraded_latency_ms: float = 2000
    check_certificate: bool = False


@dataclass
class Outcome:
    probe_id: int
    checked_at: datetime
    ok: bool
    slow: bool = False
    status_code: int | None = None
    latency_ms: float | None = None
    error: str = ""
    cert_checked: bool = False
    cert_expires_at: datetime | None = None
    cert_error: str = ""


# The headers every probe sends; any other is one staff set on the probe (an API key, say).
_OWN_HEADERS = frozenset({"user-agent", "accept", "accept-encoding", "connection", "content-length"})
# Off only where staff turned verification off for a probe (a self-signed certificate): the
# warning urllib3 would log on every such request says nothing they did not choose.
warnings.filterwarnings("ignore", category=InsecureRequestWarning)


class _Session(requests.Session):
    """A session that follows a redirect only to where a probe may go (a redirect to the cloud
    metadata service would otherwise get around the URL's own check), and never carries a
    probe's own headers to another host (requests drops only Authorization there)."""

    def rebuild_auth(self, prepared_request, response):
        super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in [n for n in prepared_request.headers if n.lower() not in _OWN_HEADERS]:
                del prepared_request.headers[name]

    def get_redirect_target(self, resp):
        target = super().get_redirect_target(resp)
        if target:
            refused = outbound.check_destination(urljoin(resp.url, target), outbound.PROBE)
            if refused:
                raise requests.exceptions.InvalidURL(f"redirect refused: {refused}")
        return target


class _WatchedAdapter(HTTPAdapter):
    """Pools whose connections put their sockets under the running probe's deadline."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = deadline.watched_pool_classes


def make_session(pool_size: int) -> requests.Session:
    session = _Session()
    adapter = _WatchedAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.max_redirects = 3
    return session


LIST_INDEX = re.compile(r"-?[0-9]+")  # ASCII: str.isdigit() also takes "²", which int() refuses


def json_lookup(document, path: str):
    """The value at a dotted path ("data.items.0.status"); _MISSING if any step is absent."""
    value = document
    for step in path.split("."):
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and LIST_INDEX.fullmatch(step) and -len(value) <= int(step) < len(value):
            value = value[int(step)]
        else:
            return _MISSING
    return value


def _as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return value if isinstance(value, str) else json.dumps(value)


def _content_problem(spec: ProbeSpec, body: bytes) -> str:
    if spec.keyword and spec.keyword.encode() not in body:
        return f"keyword {spec.keyword!r} not found in the response"
    if spec.json_path:
        try:
            document = json.loads(body)
        except ValueError:
            return "response is not JSON"
        value = json_lookup(document, spec.json_path)
        if value is _MISSING:
            return f"JSON field {spec.json_path!r} missing"
        if spec.json_value and _as_text(value) != spec.json_value:
            # Never the value found: the field may hold anything (a password, a token), and the
            # error is shown to everyone who may read probe results.
            return f"JSON field {spec.json_path!r} does not have the expected value"
    return ""


def _error_text(exc: Exception, timeout: float) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return f"connect timed out after {timeout:g} s"
    if isinstance(exc, requests.Timeout):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, requests.ConnectionError):
        reason = str(exc)
        if "refused" in reason.lower():
            return "connection refused"
        return f"connection failed: {reason[:300]}"
    return f"{type(exc).__name__}: {exc}"[:500]


def _http(spec: ProbeSpec, session: requests.Session, outcome: Outcome, probe_round: deadline.Round) -> None:
    started = time.perf_counter()
    if urlsplit(spec.url).scheme not in ("http", "https"):
        outcome.error = "only http and https URLs are probed"
        return
    refused = outbound.check_destination(spec.url, outbound.PROBE)
    if refused:
        outcome.error = refused
        return
    with probe_round.deadline(spec.timeout) as exchange:
        try:
            with session.request(
                spec.method,
                spec.url,
                headers=parse_headers(spec.request_headers) or None,
                data=spec.request_body.encode() if spec.method in BODY_METHODS else None,
                auth=(spec.basic_auth_user, spec.basic_auth_password) if spec.basic_auth_user else None,
                verify=spec.verify_tls,
                timeout=(spec.timeout, spec.timeout),
                stream=True,
                allow_redirects=True,
            ) as response:
                outcome.status_code = response.status_code
                body = bytearray()
                if spec.method != "HEAD":
                    for chunk in response.iter_content(16384):
                        body += chunk
                        if len(body) >= MAX_BODY_BYTES:
                            break
        except Exception as exc:  # any failure of the request is the probe's result, never a crash
            outcome.latency_ms = round((time.perf_counter() - started) * 1000, 2)
            # Cut by the deadline, requests sees a closed connection: report what happened.
            error = _error_text(requests.Timeout() if exchange.expired else exc, spec.timeout)
            # requests quotes the URL, with its query string and password, in its errors.
            outcome.error = outbound.scrub(error, spec.url)
            return
    outcome.latency_ms = round((time.perf_counter() - started) * 1000, 2)
    if outcome.status_code not in spec.expected_status_codes:
        expected = ", ".join(str(code) for code in spec.expected_status_codes)
        outcome.error = f"HTTP {outcome.status_code}, expected {expected}"
        return
    problem = _content_problem(spec, bytes(body))
    if problem:
        outcome.error = problem
        return
    outcome.ok = True
    outcome.slow = outcome.latency_ms > spec.degraded_latency_ms


def _certificate(spec: ProbeSpec, outcome: Outcome, probe_round: deadline.Round) -> None:
    parts = urlsplit(spec.url)
    outcome.cert_checked = True
    timeout = min(spec.timeout, 5.0)
    try:
        with probe_round.deadline(timeout):
            outcome.cert_expires_at = tls.certificate_expiry(
                parts.hostname or "", parts.port or 443, timeout=timeout
            )
    except Exception as exc:  # CertificateError, or an odd host name: recorded, never a crash
        outcome.cert_error = str(exc)[:300]


def execute(spec: ProbeSpec, session: requests.Session, probe_round: deadline.Round | None = None) -> Outcome:
    """One probe; on its own (not in a round) it is a round of one."""
    probe_round = probe_round or deadline.Round()
    outcome = Outcome(probe_id=spec.probe_id, checked_at=datetime.now(UTC), ok=False)
    if spec.kind != "http":
        KINDS[spec.kind](spec, outcome, probe_round)
        return outcome
    _http(spec, session, outcome, probe_round)
    if spec.check_certificate and urlsplit(spec.url).scheme == "https":
        _certificate(spec, outcome, probe_round)
    return outcome


KINDS = {"tcp": kinds.tcp, "dns": kinds.dns_lookup, "tls": kinds.certificate, "icmp": kinds.icmp}


def execute_all(specs: list[ProbeSpec], *, concurrency: int, round_deadline: float) -> list[Outcome]:
    """Run every spec on a bounded pool; each probe ends by its own timeout. The round deadline
    bounds the queue: probes not started by then are reported as failed, and any still running
    are cut off. Every worker thread and socket is released before this returns."""
    if not specs:
        return []
    session = make_session(min(concurrency, len(specs)))
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(specs)), thread_name_prefix="probe")
    started = datetime.now(UTC)
    probe_round = deadline.Round()
    futures = {pool.submit(execute, spec, session, probe_round): spec for spec in specs}
    _, running = wait(futures, timeout=round_deadline)
    if running:
        pool.shutdown(wait=False, cancel_futures=True)
        probe_round.expire_all()
    # A cut-off probe returns at once; only a name lookup (which no socket deadline reaches)
    # could still hold a thread, and it gets a bounded grace rather than the round.
    _, stuck = wait(futures, timeout=RELEASE_GRACE_SECONDS)
    pool.shutdown(wait=not stuck)
    if not stuck:
        session.close()
    outcomes = []
    for future, spec in futures.items():
        if future not in running:
            outcomes.append(future.result())
        else:
            outcomes.append(
                Outcome(
                    probe_id=spec.probe_id,
                    checked_at=started,
                    ok=False,
                    latency_ms=round(round_deadline * 1000, 2),
                    error=f"not finished within the round deadline of {round_deadline:g} s",
                )
            )
    return outcomes
