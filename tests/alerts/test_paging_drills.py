"""Paging drills travel the real path (policy, schedule, person, contact method, the SMTP server
on loopback), record each hop, settle as acknowledged through the mail's link or as missed with
a real alert, and start weekly once per slot."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.test import Client

from alerts.drills import drill_hops, drill_start, drills_settle, drills_start_due, weekly_slot
from alerts.models import Alert, PagingDrill
from alerts.response_times import response_times
from notifications.models import Channel, Delivery
from notifications.services import deliveries_send_due
from oncall.models import EscalationPolicy
from oncall.policies import policy_save
from tests.alerts.mail_links import links_in, mail_text, press
from tests.alerts.paging import SUNDAY_3AM_BERLIN, on_call_world

pytestmark = pytest.mark.django_db
T0 = SUNDAY_3AM_BERLIN


@pytest.fixture
def world(smtp):
    # A channel every ordinary alert would reach: a drill must not.
    Channel.objects.create(name="ops mail", kind="email", recipients="ops@example.com")
    return on_call_world()


def at(minutes: float):
    return time_machine.travel(T0 + timedelta(minutes=minutes), tick=False)


def weekly(policy: EscalationPolicy, at_time: time, zone: str) -> EscalationPolicy:
    """The policy drilled every Sunday at `at_time`, as made a month before T0 (a slot before a
    policy existed never starts a drill)."""
    policy.drill_weekday, policy.drill_time, policy.drill_time_zone = 6, at_time, zone
    policy_save(policy=policy)
    EscalationPolicy.objects.filter(pk=policy.pk).update(created_at=T0 - timedelta(days=30))
    policy.refresh_from_db()
    return policy


def started(world) -> PagingDrill:
    with at(0):
        drill = drill_start(policy=world["policy"], user=world["bob"])
        deliveries_send_due()
    return drill


def test_a_drill_pages_the_person_on_call_marked_as_a_drill_and_records_the_hops(world, smtp):
    drill = started(world)
    [mail] = smtp.messages
    assert [address for _, to in smtp.envelopes for address in to] == ["alice@example.com"]
    assert "[DRILL]" in mail["Subject"] and "Nothing is broken" in mail_text(mail)
    mail_hop, push_hop = drill_hops(drill)
    assert (mail_hop["person"], mail_hop["kind"], mail_hop["recipient"]) == (
        "alice",
        "email",
        "alice@example.com",
    )
    assert mail_hop["enqueued_at"] == T0 and mail_hop["accepted_at"] == T0 and mail_hop["status"] == "sent"
    # Her own rules: push two minutes after the page, waiting in the outbox.
    assert (push_hop["kind"], push_hop["status"], push_hop["accepted_at"]) == ("ntfy", "pending", None)
    assert push_hop["due_at"] == T0 + timedelta(minutes=2)
    drill.alert.refresh_from_db()
    assert drill.alert.alert_type == Alert.Type.DRILL and drill.alert.escalation_policy == world["policy"]
    assert not Delivery.objects.filter(recipient="ops@example.com").exists()


def test_acknowledging_through_the_mails_link_settles_the_drill_as_acknowledged(world, smtp):
    drill = started(world)
    links = links_in(mail_text(smtp.messages[-1]))
    with at(3):
        assert press(links["acknowledge"], Client(enforce_csrf_checks=True)).status_code == 200
        assert drills_settle() == {"acknowledged": 1, "missed": 0}
        assert drills_settle() == {"acknowledged": 0, "missed": 0}  # settled once
    drill.refresh_from_db()
    assert drill.outcome == "acknowledged" and drill.acknowledged_at == T0 + timedelta(minutes=3)
    assert drill.alert.status == "resolved" and drill.missed_alert is None
    # A drill is not an incident: it does not count towards the response times.
    with at(5):
        figures = response_times(days=7)
    assert figures["by_severity"]["critical"]["acknowledge"]["count"] == 0


def test_a_drill_nobody_acknowledges_climbs_the_policy_then_raises_a_real_alert(world, smtp):
    drill = started(world)
    assert drill.answer_by == T0 + timedelta(minutes=11)  # 1 + 10 minutes of steps
    from alerts.services import alerts_escalate_due

    with at(1):
        alerts_escalate_due()
        deliveries_send_due()
    with at(10.5):
        assert drills_settle() == {"acknowledged": 0, "missed": 0}
    with at(11):
        alerts_escalate_due()
        deliveries_send_due()
        assert drills_settle() == {"acknowledged": 0, "missed": 1}
    drill.refresh_from_db()
    assert drill.outcome == "missed" and drill.alert.status == "resolved"
    missed = drill.missed_alert
    assert missed.alert_type == "meta" and missed.status == "firing"
    assert missed.title == f"Paging drill of {world['policy'].name} was not acknowledged"
    assert {hop["person"] for hop in drill_hops(drill)} >= {"alice", "carol"}


def test_a_policy_without_steps_cannot_be_drilled(db):
    from alerts.drills import DrillError

    empty = policy_save(policy=EscalationPolicy(name="empty"))
    with pytest.raises(DrillError, match="no steps"):
        drill_start(policy=empty)
    assert not PagingDrill.objects.exists()


def test_weekly_drills_start_once_per_slot_in_the_policys_zone(world, smtp):
    policy = weekly(world["policy"], time(3, 0), "Europe/Berlin")
    assert weekly_slot(policy, T0 + timedelta(minutes=5)) == T0  # Sunday 03:00 Berlin is 02:00 UTC
    assert weekly_slot(policy, T0 - timedelta(minutes=5)) == T0 - timedelta(days=7)
    with at(-1):
        assert drills_start_due() == 0  # the previous slot was a week ago: past its grace
    with at(2):
        assert drills_start_due() == 1
        assert drills_start_due() == 0
    [drill] = PagingDrill.objects.all()
    assert drill.scheduled_for == T0 and drill.started_by is None
    with at(90):
        assert drills_start_due() == 0


def test_the_api_starts_a_drill_and_shows_its_hops(world, api, smtp):
    with at(0):
        response = api.post("/api/operations/paging-drills", {"policy": world["policy"].pk}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["outcome"] == "pending" and body["started_by"] == "staff"
    assert [hop["person"] for hop in body["hops"]] == ["alice", "alice"]
    assert api.get(f"/api/operations/paging-drills/{body['id']}").json()["id"] == body["id"]
    empty = policy_save(policy=EscalationPolicy(name="empty"))
    refused = api.post("/api/operations/paging-drills", {"policy": empty.pk}, format="json")
    assert refused.status_code == 400 and "no steps" in refused.json()["detail"]
    unknown = api.post("/api/operations/paging-drills", {"policy": 999999}, format="json")
    assert unknown.status_code == 400 and "policy" in unknown.json()["errors"]
    assert PagingDrill.objects.count() == 1


def test_the_admin_starts_a_drill_and_shows_its_pages(world, admin_client_, smtp):
    with at(0):
        response = admin_client_.post("/admin/alerts/pagingdrill/add/", {"policy": world["policy"].pk})
    assert response.status_code == 302, response.content
    drill = PagingDrill.objects.get()
    page = admin_client_.get(f"/admin/alerts/pagingdrill/{drill.pk}/change/")
    assert page.status_code == 200 and b"alice@example.com" in page.content


@pytest.mark.django_db(transaction=True)
def test_two_workers_start_a_weekly_drill_once(world, smtp):
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent inserts are PostgreSQL's")
    weekly(world["policy"], time(2, 0), "UTC")
    barrier, counts = threading.Barrier(2), []

    def worker():
        from django.db import connections

        try:
            barrier.wait(5)
            counts.append(drills_start_due(now=datetime(2026, 11, 29, 2, 1, tzinfo=UTC)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(counts) == [0, 1]
    assert PagingDrill.objects.count() == 1 and Alert.objects.filter(alert_type="drill").count() == 1
