"""A heartbeat check's alert goes to the check's own channels and severity when it names them,
and to the defaults of an alert without a rule (every channel, high) when it does not."""

import pytest
from django.urls import reverse

from alerts.models import Alert
from alerts.notify import alerts_pending_announce
from healthchecks.pings.models import Check, Ping
from healthchecks.pings.services import check_create, check_ping
from notifications.models import Delivery
from oncall.models import EscalationPolicy
from tests.alerts.factories import ChannelFactory
from tests.alerts.paging import on_call_world
from tests.alerts.test_paging import at, mailed, smtp, sweep_and_send  # noqa: F401  (smtp: a fixture)

pytestmark = pytest.mark.django_db


def _delivered_to(check) -> set[str]:
    check_ping(check=check, kind=Ping.Kind.FAIL)
    alerts_pending_announce()
    return set(Delivery.objects.values_list("channel__name", flat=True))


def test_it_sends_the_alert_to_the_checks_channels_only():
    ChannelFactory(name="everyone")
    backups = ChannelFactory(name="backups")
    check = check_create(name="nightly backup", channels=[backups])
    assert _delivered_to(check) == {"backups"}
    assert list(Alert.objects.get().channels.all()) == [backups]


def test_it_sends_to_every_channel_when_the_check_names_none():
    ChannelFactory(name="everyone")
    ChannelFactory(name="ops")
    assert _delivered_to(check_create(name="nightly backup")) == {"everyone", "ops"}


def test_it_sends_nothing_when_the_checks_channels_are_all_disabled():
    ChannelFactory(name="everyone")
    check = check_create(name="nightly backup", channels=[ChannelFactory(name="off", enabled=False)])
    assert _delivered_to(check) == set()


def test_it_raises_the_alert_at_the_checks_severity_or_high():
    check_ping(check=check_create(name="a", severity="low"), kind=Ping.Kind.FAIL)
    check_ping(check=check_create(name="b"), kind=Ping.Kind.FAIL)
    assert dict(Alert.objects.values_list("title", "severity")) == {"a is down": "low", "b is down": "high"}


def test_the_api_sets_and_shows_channels_and_a_blank_severity(api):
    pager = ChannelFactory(name="pager")
    response = api.post(
        "/api/operations/checks", {"name": "queue", "channels": [pager.pk], "severity": ""}, format="json"
    )
    assert response.status_code == 201, response.content
    assert (response.json()["channels"], response.json()["severity"]) == ([pager.pk], "")
    check = Check.objects.get()
    assert list(check.channels.all()) == [pager] and check.alert_severity == "high"
    response = api.patch(f"/api/operations/checks/{check.pk}", {"channels": []}, format="json")
    assert response.status_code == 200 and response.json()["channels"] == []


def test_the_api_refuses_an_unknown_channel_naming_the_field(api):
    response = api.post("/api/operations/checks", {"name": "queue", "channels": [999999]}, format="json")
    assert response.status_code == 400 and "channels" in response.json()["errors"]


def test_the_admin_sets_the_channels(admin_client_):
    pager = ChannelFactory(name="pager")
    form = {
        "name": "queue",
        "kind": "simple",
        "period_seconds": "3600",
        "schedule": "0 * * * *",
        "time_zone": "UTC",
        "grace_seconds": "600",
        "severity": "critical",
        "channels": [str(pager.pk)],
    }
    response = admin_client_.post(reverse("admin:healthchecks_check_add"), form)
    assert response.status_code == 302, response.content[:2000]
    check = Check.objects.get()
    assert list(check.channels.all()) == [pager] and check.severity == "critical"


def test_a_down_check_pages_the_person_on_call_through_its_escalation_policy(smtp):  # noqa: F811
    world = on_call_world()
    check = check_create(name="nightly backup", escalation_policy=world["policy"])
    with at(0):
        check_ping(check=check, kind=Ping.Kind.FAIL)
    assert Alert.objects.get().escalation_policy == world["policy"]
    sweep_and_send(1)
    assert mailed(smtp) == ["alice@example.com"]  # the night rotation of the policy's first step


def test_a_check_without_a_policy_pages_nobody(smtp):  # noqa: F811
    on_call_world()
    with at(0):
        check_ping(check=check_create(name="nightly backup"), kind=Ping.Kind.FAIL)
    assert Alert.objects.get().next_escalation_at is None
    sweep_and_send(30)
    assert "alice@example.com" not in mailed(smtp)


def test_the_api_sets_and_shows_the_escalation_policy(api):
    policy = EscalationPolicy.objects.create(name="Backups")
    response = api.post(
        "/api/operations/checks", {"name": "queue", "escalation_policy": policy.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["escalation_policy"] == policy.pk
    assert Check.objects.get().escalation_policy == policy
    response = api.post(
        "/api/operations/checks", {"name": "other", "escalation_policy": 99999}, format="json"
    )
    assert response.status_code == 400 and "escalation_policy" in response.json()["errors"]
