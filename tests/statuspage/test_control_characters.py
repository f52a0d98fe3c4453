"""Control characters in titles and texts: refused where staff type them, cleaned where a
machine sends them or a row already holds them, never a broken mail header or feed."""

import smtplib
import xml.etree.ElementTree as ET

import pytest
from django.core.mail import BadHeaderError
from django.urls import reverse

from alerts.models import Alert
from notifications.models import Delivery, DeliveryAttempt
from notifications.senders import classify_smtp_error
from notifications.services import deliveries_send_due
from statuspage import services
from statuspage.models import Component, Incident, IncidentUpdate
from tests.notifications.conftest import smtp  # noqa: F401 (the real SMTP server fixture)
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.factories import SubscriberFactory

pytestmark = pytest.mark.django_db
INJECTED = "Outage\vReply-To: attacker@example.com"


@pytest.fixture
def incident():
    return services.incident_create(title="Slow API", message="Looking into it.", notify=False)


# --- staff input is refused ------------------------------------------------------------------


@pytest.mark.parametrize(
    "title", [INJECTED, "Outage\r", "Two\nlines", "Tab\there", "Sep\x1carator", "NEL\x85"]
)
def test_it_refuses_a_control_character_in_an_incident_title(api, title):
    response = api.post(
        "/api/status/admin/incidents", {"title": title + " now", "message": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "control character" in response.json()["errors"]["title"][0]
    assert not Incident.objects.exists()


def test_it_keeps_newlines_and_tabs_in_a_message_but_refuses_a_lone_carriage_return(api, incident):
    url = f"/api/status/admin/incidents/{incident.pk}"
    ok = api.put(url, {"status": "identified", "message": "Cause:\r\n\tthe disk"}, format="json")
    assert ok.status_code == 200
    refused = api.put(url, {"status": "monitoring", "message": "Fixed\rBcc: x@example.com"}, format="json")
    assert refused.status_code == 400
    assert "message" in refused.json()["errors"]


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/status/admin/maintenance", {"title": "Disk\fswap"}, "title"),
        ("/api/status/admin/components", {"name": "A\x1ePI"}, "name"),
        ("/api/operations/alerts", {"title": "Disk\x1dfull", "severity": "high"}, "title"),
    ],
)
def test_it_refuses_control_characters_in_other_titles_and_names(api, url, body, field):
    if "maintenance" in url:
        body = {**body, "scheduled_for": "2030-01-01T01:00:00Z", "scheduled_until": "2030-01-01T02:00:00Z"}
    response = api.post(url, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_it_refuses_a_control_character_in_the_admin_incident_form(admin_client_):
    form = {
        "title": "Outage\vnow",
        "update_status": "investigating",
        "update_message": "Looking.",
        "notify": "on",
        "updates-TOTAL_FORMS": "0",
        "updates-INITIAL_FORMS": "0",
    }
    response = admin_client_.post(reverse("admin:statuspage_incident_add"), form)
    assert response.status_code == 200
    assert "control character" in str(response.context["adminform"].form.errors["title"])
    assert not Incident.objects.exists()


def test_it_refuses_a_control_character_in_the_admin_component_form(admin_client_):
    response = admin_client_.post(
        reverse("admin:statuspage_component_add"), {"name": "DB\r", "type": "service"}
    )
    assert response.status_code == 200
    assert not Component.objects.exists()


# --- machine input is cleaned ----------------------------------------------------------------


def test_it_cleans_control_characters_from_an_alertmanager_alert(api):
    payload = {
        "version": "4",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "Disk", "instance": "web-1\r\nX: y"},
                "annotations": {"summary": INJECTED, "description": "Line one\r\nline two\x1c"},
            }
        ],
    }
    response = api.post("/api/operations/integrations/alertmanager", payload, format="json")
    assert response.status_code == 200
    alert = Alert.objects.get()
    assert alert.title == "Outage Reply-To: attacker@example.com"
    assert alert.message == "Line one\nline two"
    assert alert.labels["instance"] == "web-1 X: y"


# --- rows already stored with control characters ----------------------------------------------


def test_it_mails_a_stored_title_with_control_characters_without_injecting_headers(smtp, incident):  # noqa: F811
    SubscriberFactory(email="sub@example.com", components=[])
    Incident.objects.filter(pk=incident.pk).update(title=INJECTED + "\r")  # as an old row may hold it
    services.incident_update_create(incident=incident, status="identified", message="Found it.")
    deliveries_send_due()
    assert Delivery.objects.get().status == Delivery.Status.SENT
    [mail] = smtp.messages
    assert mail["Reply-To"] is None
    assert "Outage Reply-To: attacker@example.com" in mail["Subject"]
    assert mail["To"] == "sub@example.com" and mail["From"]
    assert mail["List-Unsubscribe"].strip().startswith("<http")
    assert "Reply-To" not in mail


def test_it_serves_the_feeds_as_valid_xml_whatever_a_row_holds(client, incident):
    Incident.objects.filter(pk=incident.pk).update(title="Outage\v\x07now")
    IncidentUpdate.objects.filter(incident=incident).update(body="Bad\x1bbytes\rhere\x0c")
    ComponentFactory(name="ok")
    for path in ("/feeds/history.rss", "/feeds/history.atom"):
        response = client.get(path)
        assert response.status_code == 200
        ET.fromstring(response.content)  # well-formed XML
        assert b"Outage now" in response.content


# --- a mail that cannot be written fails at once ------------------------------------------------


@pytest.mark.parametrize(
    "error", [BadHeaderError("Header values can't contain newlines"), ValueError("Invalid address")]
)
def test_it_fails_a_mail_that_cannot_be_written_at_once(error):
    assert classify_smtp_error(error).result == DeliveryAttempt.Outcome.FAILED


def test_it_still_retries_a_dropped_connection():
    assert classify_smtp_error(smtplib.SMTPServerDisconnected()).result == DeliveryAttempt.Outcome.RETRY
