"""The remote probe agent: `vigil-agent --server URL --key KEY` (or `manage.py probe_agent`).

It needs no database. It registers with the server, pulls the probes assigned to its location
(GET /api/agent/probes with If-None-Match, so an unchanged list costs a 304), runs the due ones
as one round with the server's own probe code (healthchecks.probes.http.execute_all: the same
kinds, concurrency and deadlines), queues their results on disk and posts them in batches,
oldest first. While the server is unreachable the queue grows (up to its cap) and is sent once
the server answers again; every result keeps its id, so a batch sent twice is counted once.
SIGTERM or SIGINT ends it after the step under way.
"""

import dataclasses
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

from healthchecks.probes.http import Outcome, ProbeSpec, execute_all

logger = logging.getLogger("vigil.agent")

USER_AGENT = "Vigil-agent/1.0"
SPEC_FIELDS = {f.name for f in dataclasses.fields(ProbeSpec)}


class KeyRefused(Exception):
    """The server answered 401: the key is wrong or was revoked. Retrying would not help."""


class ServerUnavailable(Exception):
    """No answer, or one the agent should try again later (5xx, 429)."""


@dataclass
class AgentOptions:
    server: str
    key: str
    data_dir: Path
    interval: float | None = None  # None: each probe's own interval
    concurrency: int = 16
    batch_size: int = 1000
    queue_max: int = 100_000
    refresh_seconds: float = 60.0
    request_timeout: float = 30.0
    name: str = ""


def result_of(outcome: Outcome) -> dict:
    """One probe outcome as the result the server takes (its id fixed here, for good)."""
    verdict = "failed" if not outcome.ok else ("slow" if outcome.slow else "ok")
    return {
        "id": str(uuid.uuid4()),
        "probe": outcome.probe_id,
        "checked_at": outcome.checked_at.isoformat(),
        "verdict": verdict,
        "latency_ms": outcome.latency_ms,
        "status_code": outcome.status_code,
        "detail": outcome.error[:500],
    }


def spec_of(listed: dict) -> tuple[ProbeSpec, float]:
    """A probe of the server's list as the plain settings the probe code runs, and its interval."""
    fields = {name: value for name, value in listed.items() if name in SPEC_FIELDS}
    fields["expected_values"] = tuple(fields.get("expected_values") or ())
    fields["expected_status_codes"] = tuple(fields.get("expected_status_codes") or (200,))
    return ProbeSpec(**fields), float(listed.get("interval_seconds") or 30)


class Agent:
    def __init__(self, options: AgentOptions) -> None:
        from healthchecks.agents.queue import ResultQueue

        self.options = options
        self.stop = threading.Event()
        options.data_dir.mkdir(parents=True, exist_ok=True)
        self.queue = ResultQueue(options.data_dir / "queue.sqlite3", options.queue_max)
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {options.key}", "User-Agent": USER_AGENT})
        self.base = options.server.rstrip("/")
        self.etag = ""
        self.probes: dict[int, tuple[ProbeSpec, float]] = {}
        self.next_due: dict[int, float] = {}
        self.last_refresh = 0.0
        self.batch_max = options.batch_size
        self._load_cached_list()

    # --- talking to the server ---

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            response = self.session.request(
                method, f"{self.base}/api/agent/{path}", timeout=self.options.request_timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise ServerUnavailable(f"{type(exc).__name__}: {exc}"[:300]) from exc
        if response.status_code == 401:
            raise KeyRefused(response.text[:300])
        if response.status_code >= 500 or response.status_code == 429:
            raise ServerUnavailable(f"HTTP {response.status_code}")
        if response.status_code not in (200, 304, 400):
            raise ServerUnavailable(f"unexpected HTTP {response.status_code}")
        return response

    @staticmethod
    def _json(response: requests.Response) -> dict:
        """The answer's JSON object; a cut or garbled answer is tried again later, like no answer."""
        try:
            body = response.json()
        except ValueError as exc:
            raise ServerUnavailable("an answer that is not JSON (cut short?)") from exc
        if not isinstance(body, dict):
            raise ServerUnavailable("an answer that is not a JSON object")
        return body

    def register(self) -> bool:
        try:
            response = self._call("POST", "register", json={"name": self.options.name})
        except ServerUnavailable as exc:
            logger.warning("server unreachable at registration (%s); running the cached probe list", exc)
            return False
        if response.status_code == 400:
            raise ServerUnavailable(f"registration refused: {response.text[:200]}")
        body = self._json(response)
        self.batch_max = min(self.options.batch_size, int(body.get("batch_max") or self.options.batch_size))
        logger.info(
            "registered for location %s (%s) with key %s…; %d probes assigned",
            body["location"]["name"],
            body["location"]["slug"],
            body["key_prefix"],
            body["probes"],
        )
        return True

    def refresh(self) -> None:
        """Pull the probe list unless it is unchanged (If-None-Match); keep the old one if the
        server does not answer."""
        headers = {"If-None-Match": self.etag} if self.etag else {}
        self.last_refresh = time.monotonic()
        try:
            response = self._call("GET", "probes", headers=headers)
            if response.status_code == 304:
                logger.debug("probe list unchanged")
                return
            listed = self._json(response).get("probes")
            if response.status_code != 200 or not isinstance(listed, list):
                raise ServerUnavailable(f"no probe list in the answer (HTTP {response.status_code})")
        except ServerUnavailable as exc:
            logger.warning("probe list not refreshed (%s); keeping %d probes", exc, len(self.probes))
            return
        self._use_list(listed, response.headers.get("ETag", ""))
        (self.options.data_dir / "probes.json").write_text(json.dumps({"etag": self.etag, "probes": listed}))

    def _use_list(self, listed: list[dict], etag: str) -> None:
        self.etag = etag
        self.probes = {}
        for item in listed:
            spec, interval = spec_of(item)
            self.probes[spec.probe_id] = (spec, interval)
        now = time.monotonic()
        self.next_due = {pk: self.next_due.get(pk, now) for pk in self.probes}
        logger.info(
            "probe list: %d probes (%s)", len(self.probes), ", ".join(map(str, self.probes)) or "none"
        )

    def _load_cached_list(self) -> None:
        cached = self.options.data_dir / "probes.json"
        if cached.exists():
            try:
                saved = json.loads(cached.read_text())
                self._use_list(saved["probes"], saved.get("etag", ""))
            except (ValueError, KeyError, TypeError):
                logger.warning("cached probe list unreadable; waiting for the server's")

    def flush(self) -> int:
        """Send queued results, oldest first, a batch at a time; stop at the first failure (the
        rest wait for the next try). Returns how many the server took."""
        sent = 0
        while not self.stop.is_set() or sent == 0:
            last, batch = self.queue.oldest(self.batch_max)
            if not batch:
                break
            try:
                response = self._call("POST", "results", json={"results": batch})
                body = self._json(response)
            except ServerUnavailable as exc:
                logger.warning("server unreachable (%s): %d results queued", exc, len(self.queue))
                break
            if response.status_code == 400:
                # Never accepted however often it is sent: drop it, or the queue stops for good.
                logger.error("server refused a batch of %d results: %s", len(batch), response.text[:300])
            else:
                logger.info(
                    "sent %d results: %d accepted, %d already stored, %d for unassigned probes",
                    len(batch),
                    body["accepted"],
                    body["duplicates"],
                    body["ignored"],
                )
            self.queue.remove_through(last)
            sent += len(batch)
            if self.stop.is_set():
                break
        return sent

    # --- probing ---

    def interval_of(self, probe_id: int) -> float:
        return self.options.interval or self.probes[probe_id][1]

    def run_due(self) -> int:
        now = time.monotonic()
        due = [pk for pk, at in self.next_due.items() if at <= now and pk in self.probes]
        if not due:
            return 0
        specs = [self.probes[pk][0] for pk in due]
        for pk in due:
            self.next_due[pk] = now + self.interval_of(pk)
        longest = max(spec.timeout for spec in specs)
        shortest = min(self.interval_of(pk) for pk in due)
        outcomes = execute_all(
            specs, concurrency=self.options.concurrency, round_deadline=max(shortest, 2 * longest + 1)
        )
        self.queue.append([result_of(o) for o in outcomes])
        failed = sum(not o.ok for o in outcomes)
        logger.info(
            "ran %d probes: %d ok, %d failed; %d queued",
            len(outcomes),
            len(outcomes) - failed,
            failed,
            len(self.queue),
        )
        return len(outcomes)

    def run(self) -> int:
        """Until stopped: refresh the list now and then, run what is due, send the queue.
        Returns the exit status (0: stopped by a signal; 2: the key was refused)."""
        try:
            registered = self.register()
            self.refresh()
            while not self.stop.is_set():
                if not registered:
                    registered = self.register()
                if time.monotonic() - self.last_refresh >= self.options.refresh_seconds:
                    self.refresh()
                self.run_due()
                self.flush()
                self.stop.wait(self._sleep_seconds())
            self.flush()  # one last try, bounded by the request timeout
            logger.info("stopped; %d results left in the queue for the next start", len(self.queue))
            return 0
        except KeyRefused as exc:
            logger.error("the server refused the agent key (wrong or revoked): %s", exc)
            return 2
        finally:
            self.queue.close()
            self.session.close()

    def _sleep_seconds(self) -> float:
        now = time.monotonic()
        until_due = min((at - now for at in self.next_due.values()), default=self.options.refresh_seconds)
        backlog = 1.0 if len(self.queue) else self.options.refresh_seconds
        return max(0.05, min(until_due, backlog, self.options.refresh_seconds))
