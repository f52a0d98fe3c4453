"""One alert title that tries Markdown, HTML, JSON and quote injection and a mass mention, sent
through every channel kind to loopback servers: it must arrive inert in each format. And any
HTTP provider that answers 429 and then accepts gets the message once."""

import json
import re

import pytest

from alerts.notify import alerts_pending_announce
from alerts.services import alert_raise
from notifications.models import PHONE_KINDS, Channel, Delivery
from notifications.providers import SENDERS
from notifications.services import deliveries_send_due
from tests.notifications.factories import ChannelFactory
from tests.notifications.incident_tool_servers import GENIE_KEY, ROUTING_KEY
from tests.notifications.provider_servers import Answer, ProviderServer, page, send_twice

pytestmark = pytest.mark.django_db

TITLE = '*bold* <script>x</script> "},{"a":1 \\` @everyone'
SUBJECT = f"[FIRING] {TITLE}"
BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
# The phone kinds speak Twilio's or a gateway's form shapes and have their own hostile-title and
# 429-then-200 cases (test_kind_sms.py, test_kind_sms_gateway.py).
HTTP_KINDS = [
    Channel.Kind.SLACK,
    Channel.Kind.WEBHOOK,
    *(kind for kind in SENDERS if kind not in PHONE_KINDS),
]


@pytest.fixture
def provider(settings):
    server = ProviderServer(Answer.json(200, {"ok": True}))
    settings.NTFY_URL = settings.TELEGRAM_API_URL = server.url
    settings.PAGERDUTY_EVENTS_URL = settings.OPSGENIE_API_URL = settings.SLACK_API_URL = server.url
    yield server
    server.stop()


SLACK_BOT_TOKEN = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOp"


def channel_of(kind: str, server: ProviderServer) -> Channel:
    fields = {
        Channel.Kind.NTFY: {"destination": "ops"},
        Channel.Kind.TELEGRAM: {"destination": "-1001234567890", "token": BOT_TOKEN},
        Channel.Kind.GOTIFY: {"url": server.url, "token": "AWJ3hGx.k1FsT2u"},
        Channel.Kind.PAGERDUTY: {"token": ROUTING_KEY},
        Channel.Kind.OPSGENIE: {"token": GENIE_KEY},
        Channel.Kind.WEBHOOK: {"url": f"{server.url}/webhook", "secret": "s3cret"},
        Channel.Kind.SLACK_BOT: {"token": SLACK_BOT_TOKEN, "destination": "C0123456789"},
    }.get(kind, {"url": f"{server.url}/{kind}"})
    channel = ChannelFactory(kind=kind, name=kind, recipients="", **fields)
    channel.full_clean()
    return channel


def by_path(server: ProviderServer) -> dict[str, dict]:
    paths = {
        "/slack": "slack",
        "/webhook": "webhook",
        "/discord": "discord",
        "/teams": "teams",
        "/mattermost": "mattermost",
        "/message": "gotify",
        "/": "ntfy",
        f"/bot{BOT_TOKEN}/sendMessage": "telegram",
        "/v2/enqueue": "pagerduty",
        "/v2/alerts": "opsgenie",
        "/chat.postMessage": "slack_bot",
    }
    return {paths[r["path"]]: r for r in server.requests}


@pytest.fixture
def sent(provider, smtp):
    for kind in HTTP_KINDS:
        channel_of(kind, provider)
    ChannelFactory(kind=Channel.Kind.EMAIL, recipients="oncall@example.com")
    alert_raise(fingerprint="hostile", title=TITLE, severity="critical", message=TITLE)
    alerts_pending_announce()
    deliveries_send_due()
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
    requests = by_path(provider)
    assert set(requests) == {str(kind) for kind in HTTP_KINDS}
    return requests, smtp.messages


def unescaped(character: str, text: str) -> list[str]:
    return re.findall(rf"(?<!\\){re.escape(character)}", text)


def test_every_request_is_valid_json_with_the_title_as_data(sent):
    requests, _ = sent
    for kind, request in requests.items():
        assert json.loads(request["body"]) == request["json"], kind
        assert '"a":1' not in json.dumps({k: v for k, v in request["json"].items() if k != "a"}), kind
        assert "a" not in request["json"], kind  # the JSON in the title never became a key


def test_email_shows_the_title_as_text_and_escaped_in_html(sent):
    _, [mail] = sent
    assert mail["Subject"] == SUBJECT
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert TITLE in text


@pytest.mark.parametrize("kind", ["slack", "slack_bot"])
def test_slack_escapes_its_markup_and_sends_the_header_as_plain_text(sent, kind):
    slack = sent[0][kind]["json"]
    assert "<" not in slack["text"] and "&lt;script&gt;" in slack["text"]
    assert slack["blocks"][0]["text"] == {"type": "plain_text", "text": SUBJECT}
    assert "<script>" not in slack["blocks"][1]["text"]["text"]


def test_the_webhook_carries_the_title_as_a_json_string(sent):
    assert sent[0]["webhook"]["json"]["message"]["subject"] == SUBJECT


def test_discord_escapes_markdown_and_pings_nobody(sent):
    discord = sent[0]["discord"]["json"]
    embed = discord["embeds"][0]
    for character in "*`<@":
        assert not unescaped(character, embed["title"]) and not unescaped(character, embed["description"])
    assert discord["allowed_mentions"] == {"parse": []}


def test_mattermost_escapes_markdown_and_breaks_the_mention(sent):
    text = sent[0]["mattermost"]["json"]["text"]
    assert "@everyone" not in text and "@\u2060everyone" in text
    assert "<script>" not in text and "\\*bold\\*" in text


def test_teams_shows_the_title_in_a_text_run_never_read_as_markdown(sent):
    card = sent[0]["teams"]["json"]["attachments"][0]["content"]
    title = card["body"][0]["items"][0]["inlines"][0]
    assert (title["type"], title["text"]) == ("TextRun", SUBJECT)
    assert '"type": "TextBlock"' not in json.dumps(card)  # only RichTextBlocks of TextRuns


def test_telegram_escapes_html_and_keeps_only_its_own_tags(sent):
    telegram = sent[0]["telegram"]["json"]
    assert telegram["parse_mode"] == "HTML"
    assert "<script>" not in telegram["text"] and "&lt;script&gt;" in telegram["text"]
    assert set(re.findall(r"</?(\w+)", telegram["text"])) <= {"b", "i", "a"}
    assert "&quot;" in telegram["text"]


@pytest.mark.parametrize("kind", ["ntfy", "gotify"])
def test_ntfy_and_gotify_get_plain_text(sent, kind):
    request = sent[0][kind]
    assert request["json"]["title"] == SUBJECT
    assert "markdown" not in json.dumps(request["json"]).lower()
    assert "Markdown" not in request["headers"]
    if kind == "gotify":
        assert request["json"]["extras"]["client::display"] == {"contentType": "text/plain"}


def test_the_incident_tools_get_the_title_as_plain_data(sent):
    pagerduty, opsgenie = sent[0]["pagerduty"]["json"], sent[0]["opsgenie"]["json"]
    assert pagerduty["payload"]["summary"] == SUBJECT and pagerduty["dedup_key"] == "hostile"
    assert opsgenie["message"] == SUBJECT and opsgenie["alias"] == "hostile"


@pytest.mark.parametrize("kind", HTTP_KINDS)
def test_a_provider_answering_429_then_200_gets_it_once(provider, kind):
    provider.then(Answer(429, b"", {"Retry-After": "1"}))
    channel_of(kind, provider)
    page(context={"alerts": [{"fingerprint": "disk:db-1"}], "url": "https://vigil.example/a/1"})
    send_twice()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2
    assert len(provider.requests) == 2
    send_twice()  # nothing left to send
    assert len(provider.requests) == 2
