import pytest

from config.redact import redact
from notifications.models import Channel, Delivery, DeliveryAttempt
from notifications.services import deliveries_send_due
from tests.notifications.factories import ChannelFactory
from tests.notifications.provider_servers import HOSTILE_TITLE, Answer, ProviderServer, page, send_twice

pytestmark = pytest.mark.django_db

# A Workflows ("When a Teams webhook request is received") URL accepts with 202 and no body.
ACCEPTED = Answer(202)
WORKFLOW_PATH = "/workflows/8c1e/triggers/manual/paths/invoke?api-version=2016-06-01&sig=signature-secret"


@pytest.fixture
def teams():
    server = ProviderServer(ACCEPTED)
    yield server
    server.stop()


def teams_channel(server):
    return ChannelFactory(kind=Channel.Kind.TEAMS, recipients="", url=server.url + WORKFLOW_PATH)


def card_of(request):
    [attachment] = request["json"]["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


def test_it_posts_an_adaptive_card_in_the_severity_colour_with_a_link(teams):
    teams_channel(teams)
    page()
    deliveries_send_due()
    [request] = teams.requests
    card = card_of(request)
    assert card["type"] == "AdaptiveCard"
    band = card["body"][0]
    assert band["style"] == "attention"
    assert band["items"][0]["inlines"][0]["text"] == "Disk almost full on db-1"
    assert card["actions"][0] == {
        "type": "Action.OpenUrl",
        "title": "Open in Vigil",
        "url": "https://vigil.example/admin/alerts/alert/7/change/",
    }
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_it_shows_a_hostile_title_as_plain_text(teams):
    teams_channel(teams)
    page(subject=HOSTILE_TITLE)
    deliveries_send_due()
    card = card_of(teams.requests[0])
    run = card["body"][0]["items"][0]["inlines"][0]
    # A TextRun is never read as Markdown: the title arrives exactly as typed, in one string.
    assert run == {**run, "type": "TextRun", "text": HOSTILE_TITLE}
    assert set(teams.requests[0]["json"]) == {"type", "attachments"}


def test_it_waits_as_told_on_429_then_sends_once(teams):
    teams.then(Answer(429, b"Microsoft Teams endpoint returned HTTP error 429", {"Retry-After": "30"}))
    teams_channel(teams)
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert attempt.outcome == DeliveryAttempt.Outcome.RETRY
    assert 29 <= (delivery.next_attempt_at - attempt.started_at).total_seconds() <= 32
    send_twice()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2 and len(teams.requests) == 2


def test_it_retries_a_5xx(teams):
    teams.then(Answer(500, b"Internal Server Error"))
    teams_channel(teams)
    page()
    deliveries_send_due()
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_it_fails_a_bad_workflow_request_at_once_with_its_reason(teams):
    error = {
        "error": {
            "code": "TriggerInputSchemaMismatch",
            "message": "The input body does not match the schema.",
        }
    }
    teams.then(Answer.json(400, error))
    teams_channel(teams)
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert delivery.last_error == "HTTP 400: The input body does not match the schema."


def test_it_keeps_a_connector_url_and_a_workflow_signature_out_of_the_logs():
    line = redact(
        "POST https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/ghi/jkl failed; "
        "POST https://prod-1.westus.logic.azure.com/workflows/1/invoke?api-version=1&sig=SIGSECRET failed"
    )
    assert "IncomingWebhook" not in line and "SIGSECRET" not in line
