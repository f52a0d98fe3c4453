"""Markdown in incident updates, postmortems and maintenance: rendered, sanitised, or plain."""

import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from notifications.models import Message
from notifications.senders import build_email
from statuspage import services
from statuspage.markup import markdown_to_text, render_markdown
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

HOSTILE = (
    "**Bold** <script>alert(1)</script> [click](javascript:alert(2)) "
    '<img src=x onerror="alert(3)"> [data](data:text/html;base64,PHNjcmlwdD4=) '
    '<a href="https://evil.example" onclick="alert(4)">raw</a>'
)


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def dangers(html: str) -> list:
    """Every element or attribute in `html` that could run a script or load a page."""
    parser = _Elements()
    parser.feed(html)
    bad = []
    for tag, attrs in parser.found:
        if tag in ("script", "img", "iframe", "object", "embed", "style"):
            bad.append(tag)
        bad += [name for name in attrs if name.startswith("on")]
        bad += [
            value
            for name, value in attrs.items()
            if name in ("href", "src") and not (value or "").startswith(("http://", "https://", "mailto:"))
        ]
    return bad


def _incident(message: str = HOSTILE):
    return services.incident_create(title="API down", message=message)


def test_it_renders_bold_and_lists():
    html = render_markdown("**slow** requests\n\n- api\n- web")
    assert "<strong>slow</strong>" in html and "<li>api</li>" in html


def test_it_shows_a_script_tag_as_text():
    assert "<script" not in render_markdown("<script>alert(1)</script>")


def test_it_drops_javascript_links():
    assert dangers(render_markdown("[click](javascript:alert(1)) <javascript:alert(1)>")) == []


def test_it_drops_data_urls():
    assert (
        dangers(render_markdown("[x](data:text/html;base64,PHNjcmlwdD4=) ![y](data:image/png;base64,AA)"))
        == []
    )


def test_it_never_writes_an_element_with_an_event_handler():
    assert "<img" not in render_markdown('<img src=x onerror="alert(1)">')


def test_it_strips_event_handlers_from_html_it_is_given():
    from statuspage.markup import sanitize_html

    assert sanitize_html('<a href="https://x.example" onclick="alert(1)">x</a>').count("onclick") == 0


def test_it_shows_raw_html_as_text():
    assert "&lt;a href" in render_markdown('<a href="https://x.example">raw</a>')


def test_it_marks_links_nofollow_noopener():
    assert 'rel="nofollow noopener"' in render_markdown("[docs](https://docs.example/a)")


def test_it_keeps_mailto_links():
    assert 'href="mailto:ops@example.com"' in render_markdown("[mail us](mailto:ops@example.com)")


def test_it_refuses_other_schemes():
    assert "href" not in render_markdown("[f](ftp://files.example/x) [v](vbscript:msgbox)")


def test_it_shows_an_image_as_a_link_and_loads_nothing():
    assert "<img" not in render_markdown("![chart](https://cdn.example/chart.png)")


def test_it_moves_headings_below_the_page_titles():
    assert "<h3>Cause</h3>" in render_markdown("# Cause")


def test_it_writes_plain_text_with_link_addresses():
    text = markdown_to_text("We **fixed** [the API](https://x.example/a).\n\n- one\n- two")
    assert text == "We fixed the API (https://x.example/a).\n\n- one\n- two"


def test_it_renders_markdown_on_the_incident_page(client):
    incident = _incident()
    body = client.get(incident.get_absolute_url()).content.decode()
    assert "<strong>Bold</strong>" in body


def test_it_runs_no_script_on_the_incident_page(client):
    incident = _incident()
    body = client.get(incident.get_absolute_url()).content.decode()
    update = body.split('<div class="update__body markup">')[1].split("</div>")[0]
    assert "<strong>Bold</strong>" in update and dangers(update) == []


def test_it_renders_the_postmortem_as_markdown(client):
    incident = _incident("Fixed.")
    services.incident_update_create(incident=incident, status="resolved", message="Done")
    services.incident_postmortem_publish(incident=incident, body="## Cause\n\nA *bad* deploy.")
    body = client.get(incident.get_absolute_url()).content.decode()
    assert "<h4>Cause</h4>" in body and "<em>bad</em>" in body


def test_it_renders_markdown_on_the_home_page(client):
    _incident()
    assert "<strong>Bold</strong>" in client.get("/").content.decode()


def test_it_summarises_past_incidents_in_history_without_markup(client):
    _incident("**Slow** [API](https://x.example)")
    body = client.get("/history").content.decode()
    assert "Slow API (https://x.example)" in body


def test_it_renders_a_maintenance_description(client):
    start = timezone.now() + timedelta(days=1)
    window = services.maintenance_schedule(
        title="DB upgrade",
        description="Expect `read-only` mode.",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=1),
    )
    assert "<code>read-only</code>" in client.get(window.get_absolute_url()).content.decode()


def _feed_descriptions(client, path: str) -> str:
    root = ET.fromstring(client.get(path).content)
    return " ".join(node.text or "" for node in root.iter() if node.tag.endswith(("description", "summary")))


def test_it_renders_markdown_in_the_rss_feed(client):
    _incident()
    assert "<strong>Bold</strong>" in _feed_descriptions(client, "/feeds/history.rss")


def test_it_runs_no_script_in_the_feeds(client):
    _incident()
    text = _feed_descriptions(client, "/feeds/history.rss") + _feed_descriptions(
        client, "/feeds/history.atom"
    )
    assert dangers(text) == []


def test_it_gives_the_html_of_each_update_in_the_json(client):
    incident = _incident("**Bold**")
    update = client.get(f"/api/status/incidents/{incident.pk}").json()["incident"]["incident_updates"][0]
    assert update["body_html"] == "<p><strong>Bold</strong></p>\n"


def _mail():
    SubscriberFactory(email="reader@example.com")
    _incident("We are **on it**: [details](https://x.example/d) <script>alert(1)</script>")
    message = Message.objects.get(kind="incident.created")
    return build_email(message, message.deliveries.get())


def test_it_renders_markdown_in_the_html_mail():
    html = _mail().alternatives[0][0]
    assert "<strong>on it</strong>" in html and "<script>" not in html


def test_it_writes_plain_text_in_the_text_mail():
    assert "We are on it: details (https://x.example/d) <script>alert(1)</script>" in _mail().body


def test_it_gives_channels_the_plain_text():
    component = ComponentFactory()
    services.incident_create(
        title="Slow", message="**slow** requests", components={component: "degraded_performance"}
    )
    assert Message.objects.get(kind="incident.created").context["body"] == "slow requests"


def test_it_renders_a_text_too_long_to_cache_the_same_way():
    from statuspage.markup import CACHED_UP_TO

    long = "**x** " + "word " * CACHED_UP_TO
    assert render_markdown(long).startswith("<p><strong>x</strong> word")
