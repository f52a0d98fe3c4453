"""Cancelled maintenance: refused once completed, off the upcoming list, never started, its
components released, subscribers told as of any other step, and readable by Statuspage clients."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Delivery, Message
from statuspage import services
from statuspage.models import Component, Maintenance, MaintenanceStatus
from statuspage.queries import page_state
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


def window(*, hours_ahead: float = 24, components=(), notify: bool = False) -> Maintenance:
    start = timezone.now() + timedelta(hours=hours_ahead)
    return services.maintenance_schedule(
        title="Disk swap",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=2),
        components=components,
        notify=notify,
    )


def cancel_url(maintenance: Maintenance) -> str:
    return f"/api/status/admin/maintenance/{maintenance.pk}/cancel"


def test_it_marks_a_cancelled_window_cancelled_with_its_time():
    maintenance = window()
    services.maintenance_cancel(maintenance=maintenance, note="Not needed after all.")
    maintenance.refresh_from_db()
    assert (maintenance.status, maintenance.cancelled_at is not None) == (MaintenanceStatus.CANCELLED, True)


def test_it_posts_the_note_as_the_cancellation_update(operator):
    maintenance = window()
    update = services.maintenance_cancel(maintenance=maintenance, user=operator, note="Vendor postponed.")
    assert (update.status, update.body, update.author) == ("cancelled", "Vendor postponed.", operator)


def test_it_refuses_to_cancel_a_completed_window():
    maintenance = window(hours_ahead=-1)
    services.maintenance_start(maintenance=maintenance, notify=False)
    services.maintenance_complete(maintenance=maintenance, notify=False)
    with pytest.raises(services.IllegalTransition):
        services.maintenance_cancel(maintenance=maintenance)


def test_it_refuses_to_cancel_twice():
    maintenance = window()
    services.maintenance_cancel(maintenance=maintenance)
    with pytest.raises(services.IllegalTransition):
        services.maintenance_cancel(maintenance=maintenance)


def test_a_cancelled_window_leaves_the_upcoming_list():
    kept, cancelled = window(), window(hours_ahead=30)
    services.maintenance_cancel(maintenance=cancelled)
    assert [m.pk for m in page_state(with_uptime=False).upcoming_maintenance] == [kept.pk]


def test_a_cancelled_window_is_never_started_by_the_beat_job():
    maintenance = window(hours_ahead=-0.5)
    services.maintenance_cancel(maintenance=maintenance)
    assert services.maintenance_start_due() == "maintenance: 0 started, 0 completed"


def test_cancelling_a_window_in_progress_releases_its_components():
    component = ComponentFactory()
    maintenance = window(hours_ahead=-0.5, components=[component])
    services.maintenance_start(maintenance=maintenance, notify=False)
    services.maintenance_cancel(maintenance=maintenance)
    assert Component.objects.get().status == "operational"


def test_it_tells_the_subscribers_of_an_announced_window():
    SubscriberFactory(email="a@example.com")
    maintenance = window(notify=True)
    services.maintenance_cancel(maintenance=maintenance)
    message = Message.objects.get(kind="maintenance.cancelled")
    assert Delivery.objects.filter(message=message).count() == 1


def test_it_keeps_a_silent_window_silent():
    SubscriberFactory(email="a@example.com")
    maintenance = window(notify=False)
    services.maintenance_cancel(maintenance=maintenance)
    assert not Message.objects.filter(kind="maintenance.cancelled").exists()


def test_it_sends_no_reminder_for_a_cancelled_window(settings):
    from statuspage.announce import maintenance_reminders_send

    settings.SUBSCRIBERS_REMINDER_MINUTES = 60
    SubscriberFactory(email="a@example.com")
    maintenance = window(hours_ahead=3, notify=True)
    services.maintenance_cancel(maintenance=maintenance)
    maintenance.created_at -= timedelta(days=1)
    assert maintenance_reminders_send(now=timezone.now() + timedelta(hours=2, minutes=30)) == (
        "maintenance reminders: 0 sent"
    )


# --- API and admin ---------------------------------------------------------------------------


def test_the_api_cancels_a_window(operator_client):
    maintenance = window()
    response = operator_client.post(cancel_url(maintenance), {"note": "Postponed."}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["scheduled_maintenance"]["cancelled_at"] is not None


def test_the_api_answers_409_for_a_completed_window(operator_client):
    maintenance = window(hours_ahead=-1)
    services.maintenance_start(maintenance=maintenance, notify=False)
    services.maintenance_complete(maintenance=maintenance, notify=False)
    response = operator_client.post(cancel_url(maintenance), {}, format="json")
    assert response.status_code == 409
    assert "cancelled" in response.json()["detail"]


def test_the_api_answers_404_for_an_unknown_window(operator_client):
    assert operator_client.post("/api/status/admin/maintenance/999999/cancel", {}).status_code == 404


def test_the_api_answers_400_for_a_note_that_is_not_text(operator_client):
    response = operator_client.post(cancel_url(window()), {"note": ["x"]}, format="json")
    assert response.status_code == 400


def test_the_admin_action_cancels_through_the_service(admin_client_):
    maintenance = window()
    url = reverse("admin:statuspage_maintenance_changelist")
    admin_client_.post(url, {"action": "cancel", "_selected_action": [maintenance.pk]})
    assert Maintenance.objects.get().status == MaintenanceStatus.CANCELLED


def test_the_schema_documents_the_cancel_endpoint():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/status/admin/maintenance/{id}/cancel"]["post"]
    assert {"200", "404", "409"} <= set(operation["responses"])


# --- Statuspage's shape ----------------------------------------------------------------------


def test_statuspage_clients_read_a_cancelled_window_as_completed(client):
    maintenance = window()
    services.maintenance_cancel(maintenance=maintenance)
    [row] = client.get("/api/v2/scheduled-maintenances.json").json()["scheduled_maintenances"]
    assert (row["status"], row["resolved_at"] is not None) == ("completed", True)


def test_statuspage_clients_see_the_cancellation_update_as_completed(client):
    services.maintenance_cancel(maintenance=window())
    [row] = client.get("/api/v2/scheduled-maintenances.json").json()["scheduled_maintenances"]
    assert [u["status"] for u in row["incident_updates"]] == ["completed", "scheduled"]


def test_the_upcoming_json_leaves_a_cancelled_window_out(client):
    services.maintenance_cancel(maintenance=window())
    assert client.get("/api/v2/scheduled-maintenances/upcoming.json").json()["scheduled_maintenances"] == []
