"""Who gets incident and maintenance mail, what it says, and that it is sent once."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from notifications.models import Delivery, Message
from notifications.services import deliveries_send_due
from statuspage import services
from statuspage.announce import maintenance_reminders_send
from statuspage.models import ComponentStatus, IncidentStatus
from subscribers.models import SubscriberStatus
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return ComponentFactory(name="API")


@pytest.fixture
def db():
    return ComponentFactory(name="Database")


def recipients(message: Message) -> list[str]:
    return sorted(message.deliveries.values_list("recipient", flat=True))


def open_incident(component, **fields):
    return services.incident_create(
        title="Slow requests",
        message="Looking into it.",
        components={component: ComponentStatus.DEGRADED_PERFORMANCE},
        **fields,
    )


def test_it_mails_confirmed_subscribers_of_the_affected_components_and_those_of_all(api, db):
    SubscriberFactory(email="api@example.com", components=[api])
    SubscriberFactory(email="both@example.com", components=[api, db])
    SubscriberFactory(email="all@example.com")
    SubscriberFactory(email="db@example.com", components=[db])
    SubscriberFactory(email="pending@example.com", status=SubscriberStatus.PENDING)
    SubscriberFactory(email="gone@example.com", status=SubscriberStatus.UNSUBSCRIBED)
    open_incident(api)
    message = Message.objects.get(kind="incident.created")
    assert recipients(message) == ["all@example.com", "api@example.com", "both@example.com"]


def test_it_mails_everyone_about_an_incident_without_components(api):
    SubscriberFactory(email="api@example.com", components=[api])
    SubscriberFactory(email="all@example.com")
    services.incident_create(title="Everything", message="Hm.")
    assert recipients(Message.objects.get()) == ["all@example.com", "api@example.com"]


def test_it_names_the_state_in_the_subject_for_created_updated_and_resolved(api):
    SubscriberFactory()
    incident = open_incident(api)
    services.incident_update_create(incident=incident, status=IncidentStatus.IDENTIFIED, message="Found it.")
    services.incident_update_create(incident=incident, status=IncidentStatus.RESOLVED, message="Fixed.")
    subjects = list(Message.objects.order_by("pk").values_list("kind", "subject"))
    assert subjects == [
        ("incident.created", "[Investigating] Slow requests"),
        ("incident.updated", "[Identified] Slow requests"),
        ("incident.resolved", "[Resolved] Slow requests"),
    ]


def test_it_sends_nothing_for_an_update_that_says_do_not_notify(api):
    SubscriberFactory()
    incident = open_incident(api)
    services.incident_update_create(
        incident=incident, status=IncidentStatus.MONITORING, message="x", notify=False
    )
    assert Message.objects.count() == 1


def test_it_writes_nothing_when_the_service_transaction_rolls_back(api):
    SubscriberFactory()
    with pytest.raises(services.IllegalTransition):
        incident = open_incident(api)
        services.incident_update_create(incident=incident, status=IncidentStatus.POSTMORTEM, message="x")
    assert Message.objects.count() == 1  # only the successful create


def test_it_never_mails_one_update_twice(api):
    from statuspage.announce import incident_update_announce

    SubscriberFactory.create_batch(3)
    incident = open_incident(api)
    again = incident_update_announce(update=incident.updates.get())  # a retried fan-out
    assert again.created_now is False and Delivery.objects.count() == 3


def test_it_sends_html_and_text_with_status_timeline_links_and_one_click_headers(api, smtp):
    subscriber = SubscriberFactory(email="ann@example.com")
    incident = open_incident(api)
    services.incident_update_create(
        incident=incident, status=IncidentStatus.MONITORING, message="A fix is out."
    )
    deliveries_send_due()
    mail = smtp.messages[-1]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert mail["Subject"] == "[Monitoring] Slow requests"
    assert f"/api/status/unsubscribe/{subscriber.manage_token}" in mail["List-Unsubscribe"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Current status: Monitoring" in text and "API: Degraded performance" in text
    assert text.index("A fix is out.") < text.index("Looking into it.")  # newest first
    assert f"http://testserver/incidents/{incident.pk}" in text
    assert f"/api/status/manage/{subscriber.manage_token}" in text
    assert (
        "<strong>Monitoring</strong>" in html
        and f'/api/status/unsubscribe/{subscriber.manage_token}"' in html
    )


def test_it_mails_maintenance_scheduled_started_and_completed_to_its_components(api, db):
    SubscriberFactory(email="api@example.com", components=[api])
    SubscriberFactory(email="db@example.com", components=[db])
    start = timezone.now() + timedelta(days=1)
    maintenance = services.maintenance_schedule(
        title="DB upgrade", scheduled_for=start, scheduled_until=start + timedelta(hours=1), components=[db]
    )
    services.maintenance_start(maintenance=maintenance)
    services.maintenance_update_create(maintenance=maintenance, status="verifying", message="Checking.")
    services.maintenance_update_create(maintenance=maintenance, status="in_progress", message="Again.")
    services.maintenance_complete(maintenance=maintenance)
    messages = list(Message.objects.order_by("pk"))
    assert [m.subject for m in messages] == [
        "[Scheduled maintenance] DB upgrade",
        "[Maintenance in progress] DB upgrade",
        "[Maintenance completed] DB upgrade",
    ]
    assert all(recipients(m) == ["db@example.com"] for m in messages)


def test_it_sends_the_maintenance_reminder_once_before_the_start(api, settings):
    settings.SUBSCRIBERS_REMINDER_MINUTES = 60
    SubscriberFactory(email="all@example.com")
    start = timezone.now() + timedelta(hours=5)
    services.maintenance_schedule(
        title="Router swap", scheduled_for=start, scheduled_until=start + timedelta(hours=1), components=[api]
    )
    assert maintenance_reminders_send() == "maintenance reminders: 0 sent"  # too early
    with time_machine.travel(start - timedelta(minutes=59)):
        assert maintenance_reminders_send() == "maintenance reminders: 1 sent"
        assert maintenance_reminders_send() == "maintenance reminders: 0 sent"
    reminder = Message.objects.get(kind="maintenance.reminder")
    assert reminder.subject == "[Maintenance reminder] Router swap" and recipients(reminder) == [
        "all@example.com"
    ]


def test_it_skips_the_reminder_for_maintenance_scheduled_inside_the_lead_time(api, settings):
    settings.SUBSCRIBERS_REMINDER_MINUTES = 60
    SubscriberFactory()
    start = timezone.now() + timedelta(minutes=30)
    services.maintenance_schedule(
        title="Soon", scheduled_for=start, scheduled_until=start + timedelta(hours=1)
    )
    assert maintenance_reminders_send() == "maintenance reminders: 0 sent"


def test_it_turns_reminders_off_with_zero_minutes(settings):
    settings.SUBSCRIBERS_REMINDER_MINUTES = 0
    assert "off" in maintenance_reminders_send()


def test_it_runs_the_reminder_job_as_a_management_command(api, settings):
    SubscriberFactory()
    start = timezone.now() + timedelta(minutes=90)
    maintenance = services.maintenance_schedule(
        title="Swap", scheduled_for=start, scheduled_until=start + timedelta(hours=1)
    )
    maintenance.created_at -= timedelta(hours=1)
    maintenance.save()
    out = io.StringIO()
    with time_machine.travel(start - timedelta(minutes=30)):
        call_command("send_maintenance_reminders", stdout=out)
        call_command("send_maintenance_reminders", stdout=out)
    assert out.getvalue().splitlines() == ["maintenance reminders: 1 sent", "maintenance reminders: 0 sent"]


def test_it_lists_the_reminder_job_in_the_beat_schedule(settings):
    job = settings.CELERY_BEAT_SCHEDULE["send_maintenance_reminders"]
    assert job["task"] == "statuspage.tasks.send_maintenance_reminders"


def test_it_gives_each_of_many_subscribers_their_own_links(api):
    from subscribers.models import Subscriber, new_token

    Subscriber.objects.bulk_create(
        [
            Subscriber(email=f"s{i}@example.com", status="confirmed", manage_token=new_token())
            for i in range(5000)
        ]
    )
    open_incident(api)
    assert Delivery.objects.count() == 5000
    assert len({c["unsubscribe_url"] for c in Delivery.objects.values_list("context", flat=True)}) == 5000


def test_it_writes_a_fan_out_larger_than_one_read_of_the_subscriber_cursor(api):
    """Subscribers are read in chunks of 2,000 (a server-side cursor on PostgreSQL) while the
    deliveries are written on the same connection: more than one chunk must get through."""
    from subscribers.models import Subscriber

    Subscriber.objects.bulk_create(
        Subscriber(email=f"r{i}@example.com", status=SubscriberStatus.CONFIRMED, manage_token=f"t{i:05d}")
        for i in range(4500)
    )
    incident = open_incident(api)
    message = Message.objects.get(dedup_key=f"incident-update:{incident.updates.get().pk}")
    assert message.deliveries.count() == 4500
    assert message.deliveries.filter(recipient="r4499@example.com", status="pending").exists()
    assert message.deliveries.get(recipient="r7@example.com").context["unsubscribe_url"].endswith("t00007")
