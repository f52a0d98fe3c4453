"""An alert's timeline (alerts.timeline, the admin page and GET .../alerts/<id>/timeline): events and
the deliveries of its messages, through the real outbox and the suite's SMTP server."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from alerts.models import Alert
from alerts.notify import alerts_pending_announce
from alerts.services import alert_raise, alert_resolve
from alerts.timeline import alert_timeline
from notifications.models import Channel
from notifications.services import (
    Outgoing,
    Target,
    deliveries_send_due,
    messages_enqueue_many,
)
from tests.alerts.factories import AlertFactory, ChannelFactory, SilenceFactory
from tests.config.factories import role_user
from tests.notifications.conftest import smtp  # noqa: F401  (the suite's SMTP server)

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def at(minutes: float):
    return time_machine.travel(T0 + timedelta(minutes=minutes), tick=False)


def url(alert) -> str:
    return f"/api/operations/alerts/{alert.pk}/timeline"


@pytest.fixture
def told_alert(smtp, api):  # noqa: F811
    """An alert raised, mailed to two addresses (one refused), acknowledged over the API, resolved."""
    ChannelFactory(
        name="ops mail", kind=Channel.Kind.EMAIL, recipients="oncall@example.com, reject@example.com"
    )
    with at(0):
        alert = alert_raise(fingerprint="disk", title="Disk full", severity="critical").alert
        alerts_pending_announce()
    with at(1):
        deliveries_send_due()
    with at(5):
        assert (
            api.post(f"/api/operations/alerts/{alert.pk}/acknowledge", {"note": "on it"}).status_code == 200
        )
    with at(10):
        alert_resolve(alert=alert, note="cleaned up")
        alerts_pending_announce()
    with at(11):
        deliveries_send_due()
    return alert


def test_it_lists_events_and_deliveries_in_time_order(told_alert, api):
    entries = api.get(url(told_alert)).json()["entries"]
    assert [
        (e["type"], (e["event"] or {}).get("kind") or e["delivery"]["message_kind"]) for e in entries
    ] == [
        ("event", "fired"),
        ("event", "notified"),
        ("delivery", "alert.firing"),
        ("delivery", "alert.firing"),
        ("event", "acknowledged"),
        ("event", "resolved"),
        ("event", "notified"),
        ("delivery", "alert.resolved"),
        ("delivery", "alert.resolved"),
    ]


def test_it_says_who_acknowledged_and_through_what(told_alert, api):
    entries = api.get(url(told_alert)).json()["entries"]
    ack = next(e["event"] for e in entries if e["event"] and e["event"]["kind"] == "acknowledged")
    assert (ack["actor"], ack["via"], ack["detail"]) == ("staff", "api", "on it")


def test_it_says_when_the_provider_accepted_a_mail_and_why_one_failed(told_alert, smtp, api):  # noqa: F811
    firing = [e["delivery"] for e in api.get(url(told_alert)).json()["entries"][2:4]]
    by_recipient = {d["recipient"]: d for d in firing}
    accepted, refused = by_recipient["oncall@example.com"], by_recipient["reject@example.com"]
    assert accepted["status"] == "sent" and accepted["sent_at"] == "2026-03-04T10:01:00Z"
    assert accepted["channel"]["name"] == "ops mail" and accepted["kind"] == "email"
    assert accepted["enqueued_at"] == "2026-03-04T10:00:00Z"
    assert refused["status"] == "failed" and "550" in refused["last_error"]
    assert [a["outcome"] for a in refused["attempts"]] == ["failed"]
    assert "oncall@example.com" in smtp.recipients()


def test_it_shows_a_page_to_a_person_in_the_alerts_thread(api):
    alert = AlertFactory()
    other = AlertFactory()

    def page(of, person: str) -> Outgoing:
        target = Target(kind="email", recipient=person, key=f"test-page-{of.pk}-{person}", person_id=None)
        return Outgoing(
            kind="alert.page",
            subject="Paging you",
            severity="high",
            dedup_key=f"alert:{of.pk}:page:{person}:1",
            thread=f"alert:{of.pk}",
            targets=(target,),
        )

    messages_enqueue_many([page(alert, "alice@example.com"), page(other, "bob@example.com")])
    deliveries = [e["delivery"] for e in api.get(url(alert)).json()["entries"] if e["type"] == "delivery"]
    assert [(d["recipient"], d["channel"], d["message_kind"]) for d in deliveries] == [
        ("alice@example.com", None, "alert.page")
    ]


def test_it_shows_a_silence(api):
    SilenceFactory(matchers=[{"label": "alertname", "op": "=", "value": "Quiet one"}])
    alert = alert_raise(fingerprint="q", title="Quiet one", severity="high").alert
    kinds = [e["event"]["kind"] for e in api.get(url(alert)).json()["entries"]]
    assert kinds == ["fired", "silenced"]


def test_it_cuts_a_long_history_at_the_limit(api):
    alert = alert_raise(fingerprint="r", title="Repeats", severity="low").alert
    for _ in range(4):
        alert_raise(fingerprint="r", title="Repeats", severity="low")
    body = api.get(url(alert), {"limit": 3}).json()
    assert len(body["entries"]) == 3 and body["truncated"] is True
    assert api.get(url(alert)).json()["truncated"] is False


@pytest.mark.parametrize("limit", ["0", "abc", "1001", "-1", "²", "9" * 5000])
def test_it_refuses_a_bad_limit_naming_it(api, limit):
    response = api.get(url(AlertFactory()), {"limit": limit})
    assert response.status_code == 400 and "limit" in response.json()["errors"]


def test_it_answers_404_for_an_unknown_alert(api):
    assert api.get("/api/operations/alerts/999999/timeline").status_code == 404


def _queries(alert) -> int:
    with CaptureQueriesContext(connection) as queries:
        alert_timeline(alert)
    return len(queries)


def test_it_reads_a_long_history_in_the_same_number_of_queries():
    channels = [ChannelFactory(kind=Channel.Kind.WEBHOOK, url=f"http://127.0.0.1:9/{i}") for i in range(2)]
    short = alert_raise(fingerprint="a", title="A", severity="high").alert
    alerts_pending_announce()
    few = _queries(short)
    channels += [ChannelFactory(kind=Channel.Kind.WEBHOOK, url=f"http://127.0.0.1:9/x{i}") for i in range(6)]
    long = alert_raise(fingerprint="b", title="B", severity="high").alert
    alerts_pending_announce()
    assert len([e for e in alert_timeline(long).entries if e.type == "delivery"]) == 8
    assert _queries(long) == few


def test_a_viewer_reads_it_and_anonymous_cannot():
    alert = AlertFactory()
    viewer = APIClient()
    viewer.force_authenticate(role_user("viewer"))
    assert viewer.get(url(alert)).status_code == 200
    assert APIClient().get(url(alert)).status_code in (401, 403)


def test_the_admin_page_shows_the_timeline(told_alert, admin_client_):
    page = admin_client_.get(f"/admin/alerts/alert/{told_alert.pk}/change/").content.decode()
    assert "Notification (alert.firing)" in page
    assert "by staff via api: on it" in page
    assert "550" in page


def test_it_keeps_the_first_message_of_a_storm_on_every_alert_in_it(api):
    ChannelFactory()
    first = alert_raise(fingerprint="s1", title="S1", severity="high").alert
    second = alert_raise(fingerprint="s2", title="S2", severity="high").alert
    alerts_pending_announce()
    for alert in (first, second):
        deliveries = [e["delivery"] for e in api.get(url(alert)).json()["entries"] if e["type"] == "delivery"]
        assert [d["subject"] for d in deliveries] == ["[FIRING:2] 2 alerts"]
    assert Alert.objects.count() == 2
