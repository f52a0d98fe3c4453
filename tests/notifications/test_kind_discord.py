import pytest
from django.core.exceptions import ValidationError

from config.redact import redact
from notifications.models import Channel, Delivery, DeliveryAttempt
from notifications.providers import SEVERITY_COLOUR
from notifications.services import deliveries_send_due
from tests.notifications.factories import ChannelFactory
from tests.notifications.provider_servers import HOSTILE_TITLE, Answer, ProviderServer, page, send_twice

pytestmark = pytest.mark.django_db

# A Discord webhook answers an execution without ?wait=true with 204 No Content.
EXECUTED = Answer(204)


@pytest.fixture
def discord():
    server = ProviderServer(EXECUTED)
    yield server
    server.stop()


def discord_channel(server):
    return ChannelFactory(
        kind=Channel.Kind.DISCORD, recipients="", url=f"{server.url}/api/webhooks/1234/webhook-token"
    )


def test_it_posts_one_embed_in_the_severity_colour(discord):
    discord_channel(discord)
    page()
    deliveries_send_due()
    [request] = discord.requests
    assert request["path"] == "/api/webhooks/1234/webhook-token"
    [embed] = request["json"]["embeds"]
    assert embed["color"] == SEVERITY_COLOUR["critical"]
    assert embed["url"] == "https://vigil.example/admin/alerts/alert/7/change/"
    assert "Disk at 93 %" in embed["description"]
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_it_allows_no_mentions_so_everyone_is_inert(discord):
    discord_channel(discord)
    page(subject="@everyone disk full <@&42>")
    deliveries_send_due()
    assert discord.requests[0]["json"]["allowed_mentions"] == {"parse": []}


def test_it_escapes_a_hostile_title_for_markdown(discord):
    discord_channel(discord)
    page(subject=HOSTILE_TITLE)
    deliveries_send_due()
    title = discord.requests[0]["json"]["embeds"][0]["title"]
    assert title.startswith(r"\*\*bold\*\* \_it\_ \`code\` \[link\]\(https\:")
    assert r"\@everyone \<b\>x\</b\>" in title
    # Taking the escapes out gives the title back: nothing was lost, nothing added.
    assert title.replace("\\", "") == HOSTILE_TITLE.replace("\\", "")


def test_it_waits_as_told_on_429_then_sends_once(discord):
    limited = {"message": "You are being rate limited.", "retry_after": 64.57, "global": False}
    discord.then(Answer.json(429, limited, **{"Retry-After": "65"}))
    discord_channel(discord)
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert attempt.outcome == DeliveryAttempt.Outcome.RETRY
    assert attempt.error == "HTTP 429: You are being rate limited."
    assert 64 <= (delivery.next_attempt_at - attempt.started_at).total_seconds() <= 67
    send_twice()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2 and len(discord.requests) == 2


def test_it_takes_the_wait_from_the_body_when_there_is_no_header(discord):
    discord.then(
        Answer.json(429, {"message": "You are being rate limited.", "retry_after": 40, "global": True})
    )
    discord_channel(discord)
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert 39 <= (delivery.next_attempt_at - delivery.attempt_log.get().started_at).total_seconds() <= 42


def test_it_retries_a_5xx(discord):
    discord.then(Answer(502, b"<html>Bad Gateway</html>"))
    discord_channel(discord)
    page()
    deliveries_send_due()
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_it_fails_an_unknown_webhook_at_once_with_discords_reason(discord):
    discord.then(Answer.json(404, {"message": "Unknown Webhook", "code": 10015}))
    discord_channel(discord)
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert delivery.last_error == "HTTP 404: Unknown Webhook"


def test_it_keeps_the_webhook_token_out_of_the_logs():
    line = redact("POST https://discord.com/api/webhooks/1234/s3cr3t-webhook-token failed")
    assert "s3cr3t" not in line and "discord.com/api/webhooks/" in line


def test_it_refuses_a_webhook_url_vigil_may_not_reach():
    with pytest.raises(ValidationError) as error:
        Channel(name="d", kind=Channel.Kind.DISCORD, url="http://169.254.169.254/latest").full_clean()
    assert "url" in error.value.message_dict
