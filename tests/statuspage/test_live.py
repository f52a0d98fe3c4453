"""Live updates: the small status document a page polls with If-None-Match, and the event stream."""

import json
import threading
import time

import pytest

from core.cache import redis_client
from statuspage import cache as page_cache
from statuspage import live, services
from statuspage.models import ComponentStatus
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


def _version(response) -> str:
    return json.loads(response.content)["version"]


def test_it_serves_the_live_document_with_its_version_as_the_etag(client):
    ComponentFactory(name="API")
    response = client.get("/api/status/live")
    assert response.status_code == 200
    assert response["ETag"] == f'W/"{_version(response)}"'


def test_it_answers_304_without_a_body_when_the_client_holds_the_version(client):
    ComponentFactory(name="API")
    etag = client.get("/api/status/live")["ETag"]
    again = client.get("/api/status/live", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""


def test_the_cached_page_middleware_answers_the_304_too(client):
    ComponentFactory(name="API")
    etag = client.get("/api/status/live")["ETag"]
    again = client.get("/api/status/live", HTTP_IF_NONE_MATCH=etag)
    # Answered before authentication ran: the request never got a user.
    assert again.status_code == 304 and not hasattr(again.wsgi_request, "user")


def test_the_304_keeps_the_cors_and_etag_headers(client):
    ComponentFactory(name="API")
    etag = client.get("/api/status/live")["ETag"]
    again = client.get("/api/status/live", HTTP_IF_NONE_MATCH=etag)
    assert again["ETag"] == etag and again["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in again["Access-Control-Expose-Headers"]


def test_it_answers_the_new_document_once_the_status_changed(client, django_capture_on_commit_callbacks):
    component = ComponentFactory(name="API")
    etag = client.get("/api/status/live")["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        services.component_set_status(component=component, status=ComponentStatus.MAJOR_OUTAGE)
    changed = client.get("/api/status/live", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert json.loads(changed.content)["status"]["indicator"] == "critical"


def test_it_lists_only_the_components_that_are_not_operational(client):
    ComponentFactory(name="API")
    ComponentFactory(name="Web", status=ComponentStatus.PARTIAL_OUTAGE)
    body = json.loads(client.get("/api/status/live").content)
    assert body["components"]["total"] == 2
    assert [(c["name"], c["status"]) for c in body["components"]["affected"]] == [("Web", "partial_outage")]


def test_the_home_page_carries_the_version_it_shows(client):
    ComponentFactory(name="API")
    page = client.get("/")
    live_version = _version(client.get("/api/status/live"))
    assert f'data-live-version="{live_version}"'.encode() in page.content
    assert b'data-live-url="/api/status/live"' in page.content


def test_the_home_page_does_not_poll_when_polling_is_off(client, settings):
    settings.STATUSPAGE_LIVE_POLL_SECONDS = 0
    assert b"data-live-url" not in client.get("/").content


def test_the_stream_is_refused_with_a_message_while_it_is_off(client):
    response = client.get("/api/status/stream")
    assert response.status_code == 404 and "STATUSPAGE_STREAM" in response.json()["detail"]


def _events(chunks) -> list[dict]:
    out = []
    for chunk in chunks:
        lines = dict(line.split(": ", 1) for line in chunk.decode().strip().split("\n") if ": " in line)
        if lines.get("event") == "status":
            out.append(json.loads(lines["data"]))
    return out


def test_the_stream_sends_the_document_at_once_and_ends_at_its_maximum_age(client, settings):
    settings.STATUSPAGE_STREAM = True
    settings.STATUSPAGE_STREAM_MAX_SECONDS = 1
    ComponentFactory(name="API")
    response = client.get("/api/status/stream")
    assert response["Content-Type"] == "text/event-stream"
    chunks = list(response.streaming_content)
    assert chunks[0] == b"retry: 3000\n\n"
    assert [event["status"]["indicator"] for event in _events(chunks)] == ["none"]


def test_the_stream_does_not_resend_what_the_browser_saw_before_reconnecting(client, settings):
    settings.STATUSPAGE_STREAM = True
    settings.STATUSPAGE_STREAM_MAX_SECONDS = 1
    ComponentFactory(name="API")
    version = _version(client.get("/api/status/live"))
    response = client.get("/api/status/stream", HTTP_LAST_EVENT_ID=version)
    assert _events(response.streaming_content) == []


def _read_in_background(response) -> list[tuple[float, bytes]]:
    received: list[tuple[float, bytes]] = []

    def read():
        for chunk in response.streaming_content:
            received.append((time.monotonic(), chunk))

    threading.Thread(target=read, daemon=True).start()
    return received


def _wait_for_events(received, count: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while len(_events(chunk for _, chunk in received)) < count and time.monotonic() < deadline:
        time.sleep(0.05)


# A thread reads the stream, so the rows must be committed for it to see them.
@pytest.mark.django_db(transaction=True)
def test_the_stream_sends_a_change_within_its_poll_second(client, settings):
    settings.STATUSPAGE_STREAM = True
    settings.STATUSPAGE_STREAM_MAX_SECONDS = 6
    ComponentFactory(name="API")
    received = _read_in_background(client.get("/api/status/stream"))
    _wait_for_events(received, 1, 5)
    changed_at = time.monotonic()
    page_cache.invalidate()
    _wait_for_events(received, 2, 5)
    assert len(_events(chunk for _, chunk in received)) == 2
    assert received[-1][0] - changed_at < 3


@pytest.mark.skipif(redis_client() is None, reason="Redis pub/sub is the service mode's")
@pytest.mark.django_db(transaction=True)
def test_redis_pubsub_wakes_a_stream_long_before_its_heartbeat(client, settings):
    settings.STATUSPAGE_STREAM = True
    settings.STATUSPAGE_STREAM_MAX_SECONDS = 10
    ComponentFactory(name="API")
    assert live.changes.ensure_listening()
    time.sleep(0.3)  # the listener subscribes
    received = _read_in_background(client.get("/api/status/stream"))
    _wait_for_events(received, 1, 5)
    woken = live.changes.counter
    changed_at = time.monotonic()
    page_cache.invalidate()
    _wait_for_events(received, 2, 5)
    # Without the listener the stream would sleep for HEARTBEAT_SECONDS before looking again.
    assert live.changes.counter > woken
    assert received[-1][0] - changed_at < 1.5 < live.HEARTBEAT_SECONDS
