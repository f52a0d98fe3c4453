"""Acknowledge, resolve and silence from the link in an alert's mail, through the suite's
real SMTP server: GET shows a confirmation and changes nothing, POST (with CSRF) acts once."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from alerts.models import Alert, AlertEvent, Silence
from alerts.services import alert_acknowledge, alerts_escalate_due
from tests.alerts.factories import AlertFactory, AlertRuleFactory, escalation_step
from tests.alerts.mail_links import announce_and_mail, links_in, mail_html, mail_text, press
from tests.notifications.factories import ChannelFactory

pytestmark = pytest.mark.django_db
ADDRESS = "oncall@example.com"


@pytest.fixture
def alert(smtp):
    ChannelFactory(recipients=ADDRESS)
    return AlertFactory(title="Disk full on db-1", fingerprint="disk:db-1")


@pytest.fixture
def links(alert, smtp):
    return announce_and_mail(smtp)


def status_of(alert: Alert) -> str:
    alert.refresh_from_db()
    return alert.status


def test_it_mails_acknowledge_resolve_and_silence_links(links, smtp):
    assert set(links) == {"acknowledge", "resolve", "silence"}
    assert all(path in mail_html(smtp.messages[-1]) for path in links.values())


def test_it_shows_a_confirmation_on_get_and_changes_nothing(alert, links):
    response = Client().get(links["acknowledge"])
    assert response.status_code == 200
    assert b"<button" in response.content and b"Disk full on db-1" in response.content
    assert response["Cache-Control"] == "no-store"
    assert status_of(alert) == "firing"
    assert not alert.events.filter(kind=AlertEvent.Kind.ACKNOWLEDGED).exists()


def test_it_acknowledges_on_post_and_names_the_recipient(alert, links):
    response = press(links["acknowledge"])
    assert response.status_code == 200 and b"Alert acknowledged" in response.content
    assert status_of(alert) == "acknowledged"
    event = alert.events.get(kind=AlertEvent.Kind.ACKNOWLEDGED)
    assert (event.actor_type, event.actor_name) == ("user", f"{ADDRESS} (e-mail link)")


def test_it_resolves_on_post(alert, links):
    assert press(links["resolve"]).status_code == 200
    assert status_of(alert) == "resolved"


def test_it_records_the_logged_in_user_rather_than_the_recipient(alert, links, staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    assert press(links["acknowledge"], client).status_code == 200
    alert.refresh_from_db()
    assert alert.acknowledged_by == staff_user
    assert alert.events.get(kind=AlertEvent.Kind.ACKNOWLEDGED).actor_name == ""


def test_it_silences_the_alert_for_an_hour_and_holds_its_escalation(alert, links):
    alert.next_escalation_at = timezone.now() + timedelta(minutes=5)
    alert.save()
    assert press(links["silence"]).status_code == 200
    silence = Silence.objects.get()
    assert silence.matchers == [{"label": "fingerprint", "op": "=", "value": "disk:db-1"}]
    assert timedelta(minutes=59) < silence.ends_at - timezone.now() <= timedelta(hours=1)
    alert.refresh_from_db()
    assert alert.status == "firing" and alert.next_escalation_at == silence.ends_at
    assert alert.events.get(kind=AlertEvent.Kind.SILENCED).actor_name == f"{ADDRESS} (e-mail link)"


def test_it_refuses_a_replayed_link_and_changes_nothing(alert, links):
    assert press(links["acknowledge"]).status_code == 200
    client = Client(enforce_csrf_checks=True)
    assert client.get(links["resolve"]).status_code == 410  # the token moved on: every link is spent
    assert Client().post(links["acknowledge"]).status_code == 410
    assert status_of(alert) == "acknowledged"
    assert alert.events.filter(kind=AlertEvent.Kind.ACKNOWLEDGED).count() == 1


def test_it_refuses_a_link_the_alert_has_changed_since(alert, links):
    alert_acknowledge(alert=alert)
    response = Client().post(links["resolve"])
    assert response.status_code == 410 and b"out of date" in response.content
    assert status_of(alert) == "acknowledged"


def test_it_refuses_an_expired_link(alert, links, settings):
    settings.ALERT_ACTION_LINK_MAX_AGE_HOURS = 24
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        assert Client().get(links["acknowledge"]).status_code == 410
        assert Client().post(links["acknowledge"]).status_code == 410
    assert status_of(alert) == "firing"


def test_it_refuses_a_tampered_link(alert, links):
    path = links["acknowledge"]
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert Client().get(tampered).status_code == 400
    assert Client().post(tampered).status_code == 400
    assert status_of(alert) == "firing"


def test_it_refuses_a_link_opened_for_another_alert(alert, links):
    other = AlertFactory()
    wrong = links["acknowledge"].replace(f"/act/{alert.pk}/", f"/act/{other.pk}/")
    assert Client().post(wrong).status_code == 403
    assert status_of(alert) == status_of(other) == "firing"


def test_it_refuses_a_link_opened_for_another_action(alert, links):
    wrong = links["acknowledge"].replace("/acknowledge/", "/resolve/")
    assert Client().post(wrong).status_code == 403
    assert Client().get(links["acknowledge"].replace("/acknowledge/", "/delete/")).status_code == 404
    assert status_of(alert) == "firing"


def test_it_answers_404_for_a_deleted_alert(alert, links):
    alert.delete()
    assert Client().get(links["acknowledge"]).status_code == 404


def test_it_needs_the_csrf_token_to_act(alert, links):
    client = Client(enforce_csrf_checks=True)
    client.get(links["acknowledge"])
    assert client.post(links["acknowledge"]).status_code == 403
    assert status_of(alert) == "firing"


def test_it_sends_working_links_with_an_escalation_and_retires_the_old_ones(alert, links, smtp):
    rule = AlertRuleFactory()
    step = escalation_step(rule, level=1, escalate_after_minutes=1)
    step.channels.add(ChannelFactory(recipients="lead@example.com"))
    Alert.objects.filter(pk=alert.pk).update(rule=rule, next_escalation_at=timezone.now())
    assert alerts_escalate_due() == 1
    escalation = links_in(mail_text(_send_and_last(smtp)))
    assert Client().post(links["acknowledge"]).status_code == 410
    assert press(escalation["acknowledge"]).status_code == 200
    event = alert.events.get(kind=AlertEvent.Kind.ACKNOWLEDGED)
    assert event.actor_name == "lead@example.com (e-mail link)"


def _send_and_last(smtp):
    from notifications.services import deliveries_send_due

    deliveries_send_due()
    return smtp.messages[-1]
