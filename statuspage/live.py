"""Live updates: a small status document to poll, and an optional Server-Sent Events stream.

An open page polls `/api/status/live` with `If-None-Match`. The document is served from the page
cache like every public page, and its ETag is the page cache's generation, so a poll that finds
nothing new is a 304 answered from memory (statuspage/cache.py) and costs no render and no body.
When the version differs, the page script fetches its own URL again and swaps the regions marked
`data-live` (status.js): the HTML comes from the same templates, never from a second renderer in
JavaScript.

`/api/status/stream` (off unless STATUSPAGE_STREAM is set, because each open page then holds one
request for up to STATUSPAGE_STREAM_MAX_SECONDS) sends the same document whenever it changes. In
service mode one listener per process hears every change on Redis pub/sub and wakes the streams
of that process; in embedded mode, or when Redis is down, each stream looks at the generation key
once a second. A stream ends after its maximum age and the browser's EventSource reconnects (the
`retry:` line), so a deploy or a closed tab never leaves a request open for long.
"""

import json
import logging
import threading
import time
from collections.abc import Iterator

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from redis.exceptions import RedisError

from core.cache import redis_client
from statuspage import cache as page_cache
from statuspage import queries, v2
from statuspage.cache import cached_public
from statuspage.cors import allow_any_origin

logger = logging.getLogger(__name__)
# How long a stream waits between looks at the generation key when nothing wakes it.
POLL_SECONDS = 1.0
# A comment line this often keeps proxies and load balancers from closing an idle stream.
HEARTBEAT_SECONDS = 15.0
RECONNECT_MILLISECONDS = 3000


def document(state: queries.PageState, version: str) -> dict:
    """What a page needs to know whether it is out of date, and what a widget shows.

    Only the components that are not operational are listed, so the document stays small on a
    page of thousands of components."""
    return {
        "version": version,
        "status": v2.status(state),
        "components": {
            "total": len(state.components),
            "affected": [
                {"id": str(c.pk), "name": c.name, "status": c.status}
                for c in state.components
                if c.status != "operational"
            ],
        },
        "incidents": [
            {
                "id": str(i.pk),
                "name": i.title,
                "status": i.status,
                "impact": i.effective_impact,
                "shortlink": f"{settings.PUBLIC_URL}{i.get_absolute_url()}",
            }
            for i in state.open_incidents
        ],
        "scheduled_maintenances": [
            {
                "id": str(m.pk),
                "name": m.title,
                "status": m.status,
                "scheduled_for": v2.iso(m.scheduled_for),
                "scheduled_until": v2.iso(m.scheduled_until),
            }
            for m in state.active_maintenance + state.upcoming_maintenance
        ],
    }


@cached_public(cors=True)
def live(request: HttpRequest):
    state = queries.page_state(with_uptime=False)
    return JsonResponse(document(state, request.live_version), json_dumps_params={"ensure_ascii": False})


class _Changes:
    """Wakes this process's streams when Redis announces a new generation."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.counter = 0
        self.listening = False
        self.lock = threading.Lock()

    def wait(self, seen: int, timeout: float) -> int:
        with self.condition:
            if self.counter == seen:
                self.condition.wait(timeout)
            return self.counter

    def notify(self) -> None:
        with self.condition:
            self.counter += 1
            self.condition.notify_all()

    def ensure_listening(self) -> bool:
        """Start the listener once per process; False when there is no Redis to listen to."""
        if redis_client() is None:
            return False
        with self.lock:
            if not self.listening:
                self.listening = True
                threading.Thread(target=self._listen, name="statuspage-changes", daemon=True).start()
        return True

    def _listen(self) -> None:
        while True:
            try:
                pubsub = redis_client().pubsub()
                pubsub.subscribe(page_cache.CHANGES_CHANNEL)
                for message in pubsub.listen():
                    # The confirmation wakes the streams too: a change announced before Redis had
                    # the subscription is then seen at once rather than at the next heartbeat.
                    if message.get("type") in ("message", "subscribe"):
                        self.notify()
            except (RedisError, OSError) as exc:
                # Streams fall back to looking at the generation key every POLL_SECONDS meanwhile.
                logger.warning("status page change listener lost Redis, retrying in 5 s: %s", exc)
                self.notify()
                time.sleep(5)


changes = _Changes()
_documents: dict[str, bytes] = {}
_documents_lock = threading.Lock()


def _document_bytes(generation: str) -> bytes:
    """One document per generation and process, whatever the number of streams waiting for it."""
    with _documents_lock:
        body = _documents.get(generation)
        if body is None:
            state = queries.page_state(with_uptime=False)
            body = json.dumps(document(state, page_cache.version_of(generation)), ensure_ascii=False).encode()
            # A stream lives for minutes: it must not keep a database connection the whole time.
            connection.close()
            _documents.clear()
            _documents[generation] = body
        return body


def _event(generation: str) -> bytes:
    version = page_cache.version_of(generation)
    return b"event: status\nid: " + version.encode() + b"\ndata: " + _document_bytes(generation) + b"\n\n"


def _events(last_seen: str, max_seconds: float) -> Iterator[bytes]:
    listening = changes.ensure_listening()
    wait = HEARTBEAT_SECONDS if listening else POLL_SECONDS
    yield f"retry: {RECONNECT_MILLISECONDS}\n\n".encode()
    started = last_beat = time.monotonic()
    seen = changes.counter
    sent = last_seen
    while True:
        generation = page_cache.current_generation(fresh=True)
        if page_cache.version_of(generation) != sent:
            yield _event(generation)
            sent = page_cache.version_of(generation)
        now = time.monotonic()
        if now - started >= max_seconds:
            return
        if now - last_beat >= HEARTBEAT_SECONDS:
            yield b": keep-alive\n\n"
            last_beat = now
        remaining = max_seconds - (now - started)
        seen = changes.wait(seen, min(wait, remaining, HEARTBEAT_SECONDS))


# Read-only: exempt so that a POST gets the 405 from require_safe rather than the CSRF page.
@csrf_exempt
@require_safe
def stream(request: HttpRequest):
    if not settings.STATUSPAGE_STREAM:
        return JsonResponse(
            {"detail": "The live stream is off on this server (STATUSPAGE_STREAM); poll /api/status/live."},
            status=404,
        )
    # The browser sends the id of the last event it saw when it reconnects: nothing to resend then.
    last_seen = request.META.get("HTTP_LAST_EVENT_ID", "")
    response = StreamingHttpResponse(
        _events(last_seen, settings.STATUSPAGE_STREAM_MAX_SECONDS), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    # nginx buffers responses by default, which would hold every event back.
    response["X-Accel-Buffering"] = "no"
    return allow_any_origin(response)
