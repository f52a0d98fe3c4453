import pytest

from notifications.models import Channel, Delivery, DeliveryAttempt
from notifications.services import deliveries_send_due
from tests.notifications.factories import ChannelFactory
from tests.notifications.provider_servers import HOSTILE_TITLE, Answer, ProviderServer, page, send_twice

pytestmark = pytest.mark.django_db

# A Mattermost incoming webhook answers "ok" as text/plain.
POSTED = Answer(200, b"ok", {"Content-Type": "text/plain"})


@pytest.fixture
def mattermost():
    server = ProviderServer(POSTED)
    yield server
    server.stop()


def mattermost_channel(server):
    return ChannelFactory(
        kind=Channel.Kind.MATTERMOST, recipients="", url=f"{server.url}/hooks/xi5ojc3kcbr6jpzq"
    )


def test_it_posts_the_slack_message_as_markdown_text(mattermost):
    mattermost_channel(mattermost)
    page()
    deliveries_send_due()
    [request] = mattermost.requests
    assert request["path"] == "/hooks/xi5ojc3kcbr6jpzq"
    text = request["json"]["text"]
    assert text.startswith(r"**\[critical\] Disk almost full on db\-1**")
    assert "Disk at 93 %" in text
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_it_makes_a_hostile_title_inert(mattermost):
    mattermost_channel(mattermost)
    page(subject=HOSTILE_TITLE)
    deliveries_send_due()
    title = mattermost.requests[0]["json"]["text"].split("\n\n", 1)[0]
    assert "@everyone" not in title and "@\u2060everyone" in title  # no mention, still readable
    assert r"\*\*bold\*\* \_it\_ \`code\` \[link\]\(https\:" in title
    assert "<b>" not in title and "&lt;b&gt;" in title


def test_it_waits_as_told_on_429_then_sends_once(mattermost):
    mattermost.then(
        Answer.json(429, {"message": "Too many requests", "status_code": 429}, **{"Retry-After": "20"})
    )
    mattermost_channel(mattermost)
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert attempt.outcome == DeliveryAttempt.Outcome.RETRY
    assert 19 <= (delivery.next_attempt_at - attempt.started_at).total_seconds() <= 22
    send_twice()
    delivery.refresh_from_db()
    assert (
        delivery.status == Delivery.Status.SENT and delivery.attempts == 2 and len(mattermost.requests) == 2
    )


def test_it_retries_a_5xx(mattermost):
    mattermost.then(Answer(503, b"Service Unavailable"))
    mattermost_channel(mattermost)
    page()
    deliveries_send_due()
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_it_fails_an_invalid_webhook_at_once_with_mattermosts_reason(mattermost):
    invalid = {
        "id": "web.incoming_webhook.invalid.app_error",
        "message": "Invalid webhook.",
        "detailed_error": "",
        "request_id": "8y7xkprwjpgcbbr8kcmpt8sm8e",
        "status_code": 400,
    }
    mattermost.then(Answer.json(400, invalid))
    mattermost_channel(mattermost)
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert delivery.last_error == "HTTP 400: Invalid webhook."
