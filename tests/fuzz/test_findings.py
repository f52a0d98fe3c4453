"""What the API fuzz found, one short test each, so a fix cannot quietly come undone even when a
later fuzz run happens not to draw the same input."""

from datetime import timedelta
from datetime import timezone as dt_timezone

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.api import flatten_errors
from monitoring.models import Metric
from tests.alerts.factories import AlertRuleFactory, ChannelFactory
from tests.healthchecks.factories import ProbeFactory
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db
TOO_BIG = 2**64  # a JSON integer no 64-bit id column can hold


@pytest.fixture
def api(staff_token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {staff_token}")
    return client


def test_it_refuses_a_channel_switch_without_an_id(api):
    response = api.put("/api/operations/config", {"channels": [{"enabled": False}]}, format="json")
    assert response.status_code == 400 and "channels" in response.json()["errors"]


def test_it_refuses_a_channel_id_beyond_the_id_range(api):
    ChannelFactory()
    body = {"channels": [{"id": TOO_BIG, "enabled": False}]}
    response = api.put("/api/operations/config", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["channels"] == [
        "[0].id: Ensure this value is less than or equal to 9223372036854775807."
    ]


def test_it_answers_404_in_json_for_an_id_that_is_not_a_number(api):
    ProbeFactory()
    response = api.post("/api/operations/probes/abc/hold", {"status": "operational"}, format="json")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_it_keeps_django_s_html_404_outside_the_api(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_it_refuses_to_subscribe_to_a_component_id_beyond_the_id_range(client):
    body = {"email": "ann@example.com", "components": [TOO_BIG]}
    response = client.post("/api/status/subscribe", body, "application/json")
    assert response.status_code == 400 and "components" in response.json()["errors"]


@pytest.mark.parametrize(
    "spell",
    [lambda pk: pk + 0.5, lambda pk: "".join(chr(0x660 + int(d)) for d in str(pk))],  # 2.5, "٢"
    ids=["float", "arabic-indic digits"],
)
def test_it_refuses_component_ids_that_only_look_like_numbers(client, spell):
    component = ComponentFactory()  # int() would turn either spelling into its id
    body = {"email": "ann@example.com", "components": [spell(component.pk)]}
    response = client.post("/api/status/subscribe", body, "application/json")
    assert response.status_code == 400


def test_it_answers_400_to_multipart_form_data_without_a_boundary(client):
    response = client.generic(
        "POST",
        "/api/status/subscribe",
        b"email=a",
        content_type="multipart/form-data",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400 and response.json()["errors"]


def test_it_refuses_a_patched_escalation_step_without_its_level(api):
    rule = AlertRuleFactory()
    body = {"escalation_steps": [{"escalate_after_minutes": 5, "channels": []}]}
    response = api.patch(f"/api/operations/alert-rules/{rule.pk}", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"escalation_steps": ["[0].level: This field is required."]}


@pytest.mark.parametrize("key", ["²", str(TOO_BIG)])
def test_it_refuses_incident_component_keys_that_are_not_ids(api, key):
    body = {"title": "Down", "message": "Looking", "components": {key: "major_outage"}}
    response = api.post("/api/status/admin/incidents", body, format="json")
    assert response.status_code == 400 and "components" in response.json()["errors"]


def test_it_folds_nested_errors_into_their_field():
    nested = {"steps": {0: {"level": ["Required."], "non_field_errors": ["Bad."]}}, "tags": {"a": ["No."]}}
    assert flatten_errors(nested) == {"steps": ["[0].level: Required.", "[0]: Bad."], "tags": ["a: No."]}


def test_it_takes_a_since_with_an_offset_postgresql_cannot_store(api):
    response = api.get("/api/operations/alerts", {"since": "2026-01-01T00:00:00-18:53"})
    assert response.status_code == 200


def test_it_refuses_a_since_that_leaves_the_calendar_in_utc(api):
    response = api.get("/api/operations/performance/metrics", {"since": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 400 and "since" in response.json()["errors"]


def test_it_answers_415_to_a_body_in_an_unlisted_media_type(api):
    url = "/api/operations/integrations/alertmanager"
    response = api.generic("POST", url, b"x", content_type="text/plain")
    assert response.status_code == 415 and response.json()["detail"]


def test_it_ingests_a_point_stamped_with_an_offset_postgresql_cannot_store(api):
    stamp = (timezone.now() - timedelta(minutes=5)).astimezone(dt_timezone(timedelta(hours=-18, minutes=-53)))
    point = {
        "name": "cpu",
        "value": 1,
        "metric_type": "system",
        "category": "cpu",
        "timestamp": stamp.isoformat(),
    }
    response = api.post("/api/operations/metrics", point, format="json")
    assert response.status_code == 201 and Metric.objects.get().timestamp == stamp


@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/operations/alerts", {"title": "Disk", "severity": "low", "labels": {"team\x00": "ops"}}),
        (
            "/api/operations/integrations/alertmanager",
            {"version": "4", "alerts": [{"status": "firing", "labels": {"alertname": "Disk\x00"}}]},
        ),
    ],
    ids=["label key", "alertname"],
)
def test_it_refuses_json_with_nul_characters(api, url, body):
    response = api.post(url, body, format="json")  # PostgreSQL: "cannot contain NUL" (was a 500)
    assert response.status_code == 400 and "NUL" in response.json()["detail"]


def test_it_answers_400_to_a_manage_link_with_a_nul_byte(client):
    response = client.get("/api/status/manage/" + "a" * 30 + "%00", HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and response.json()["errors"]["token"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/operations/system/health/%C2%B2",
        "/api/status/components/{pk}/uptime?days=%C2%B2",
        "/history?page=%C2%B2",
    ],
    ids=["service", "uptime days", "history page"],
)
def test_it_does_not_take_a_superscript_digit_for_a_number(api, url):
    response = api.get(url.format(pk=ComponentFactory().pk))  # "²".isdigit() is true; int("²") raises
    assert response.status_code in (400, 404)


def test_it_does_not_take_a_superscript_digit_for_a_list_index():
    from healthchecks.probes.http import _MISSING, json_lookup

    assert (
        json_lookup({"items": ["ok"]}, "items.²") is _MISSING
        and json_lookup({"items": ["ok"]}, "items.0") == "ok"
    )


def test_it_ignores_a_retry_after_of_superscript_digits():
    from notifications.senders import parse_retry_after

    assert parse_retry_after("²") is None and parse_retry_after("30") == 30.0
