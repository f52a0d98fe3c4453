"""Editing components, incidents and maintenance goes through services, which turn the page
over (cache and static copy) once per change; the holds on probe results are decided in one place."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from statuspage import cache as page_cache
from statuspage import publish, services
from statuspage.models import (
    Component,
    ComponentStatus,
    ComponentStatusChange,
    Incident,
    Maintenance,
    StatusHold,
    StatusSource,
)
from tests.statuspage.factories import ComponentFactory, MaintenanceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def turnovers(monkeypatch, settings, tmp_path):
    """Counts cache invalidations and static-copy publishes queued after commit."""
    settings.STATUSPAGE_PUBLISH_DIR = str(tmp_path)
    counts = {"invalidate": 0, "publish": 0}
    monkeypatch.setattr(
        page_cache, "invalidate", lambda: counts.__setitem__("invalidate", counts["invalidate"] + 1)
    )
    monkeypatch.setattr(
        publish, "_queue_publish", lambda: counts.__setitem__("publish", counts["publish"] + 1)
    )
    return counts


def _active_window(components):
    start = timezone.now() + timedelta(minutes=1)
    window = services.maintenance_schedule(
        title="Patch", scheduled_for=start, scheduled_until=start + timedelta(hours=1), components=components
    )
    services.maintenance_start(maintenance=window)
    return window


def _maintenance_form(window, components, *, until_hour="04:00:00") -> dict:
    day = window.scheduled_for.strftime("%Y-%m-%d")
    return {
        "title": window.title,
        "description": "",
        "components": [c.pk for c in components],
        "scheduled_for_0": day,
        "scheduled_for_1": "02:00:00",
        "scheduled_until_0": day,
        "scheduled_until_1": until_hour,
        "auto_start": "on",
        "auto_complete": "on",
        "updates-TOTAL_FORMS": "0",
        "updates-INITIAL_FORMS": "0",
    }


# --- maintenance --------------------------------------------------------------------------


def test_it_refuses_a_maintenance_edit_that_ends_before_it_starts():
    window = MaintenanceFactory()
    with pytest.raises(services.InvalidWindow):
        services.maintenance_edit(maintenance=window, scheduled_until=window.scheduled_for)
    assert Maintenance.objects.get().scheduled_until > window.scheduled_for


def test_it_enforces_the_window_in_the_database():
    window = MaintenanceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Maintenance.objects.filter(pk=window.pk).update(scheduled_until=window.scheduled_for)


def test_it_puts_a_component_added_to_an_active_window_under_maintenance():
    kept, added = ComponentFactory(), ComponentFactory()
    window = _active_window([kept])
    services.maintenance_edit(maintenance=window, components=[kept, added])
    added.refresh_from_db()
    assert (added.status, added.status_source) == (
        ComponentStatus.UNDER_MAINTENANCE,
        StatusSource.MAINTENANCE,
    )


def test_it_restores_a_component_taken_out_of_an_active_window():
    kept, removed = ComponentFactory(), ComponentFactory()
    window = _active_window([kept, removed])
    services.maintenance_edit(maintenance=window, components=[kept])
    removed.refresh_from_db()
    kept.refresh_from_db()
    assert removed.status == ComponentStatus.OPERATIONAL
    assert kept.status == ComponentStatus.UNDER_MAINTENANCE


def test_it_leaves_components_of_a_scheduled_window_alone_on_edit():
    window = MaintenanceFactory()
    services.maintenance_edit(maintenance=window, components=[ComponentFactory()])
    assert Component.objects.get().status == ComponentStatus.OPERATIONAL
    assert not ComponentStatusChange.objects.exists()


def test_it_turns_the_page_over_once_per_maintenance_edit(turnovers, django_capture_on_commit_callbacks):
    window = MaintenanceFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.maintenance_edit(maintenance=window, title="Renamed")
    assert turnovers == {"invalidate": 1, "publish": 1}


def test_it_edits_maintenance_in_the_admin_through_the_service(
    admin_client_, turnovers, django_capture_on_commit_callbacks
):
    component = ComponentFactory()
    window = _active_window([])
    url = reverse("admin:statuspage_maintenance_change", args=[window.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(url, _maintenance_form(window, [component]))
    assert response.status_code == 302, response.content[:3000]
    assert Component.objects.get().status == ComponentStatus.UNDER_MAINTENANCE
    assert turnovers == {"invalidate": 1, "publish": 1}


def test_it_shows_a_form_error_for_a_window_ending_before_it_starts(admin_client_):
    window = MaintenanceFactory()
    url = reverse("admin:statuspage_maintenance_change", args=[window.pk])
    response = admin_client_.post(url, _maintenance_form(window, [], until_hour="01:00:00"))
    assert response.status_code == 200
    assert "The window must end after it starts." in str(response.context["adminform"].form.errors)
    assert Maintenance.objects.get().scheduled_until == window.scheduled_until


# --- incidents ----------------------------------------------------------------------------


def _incident_form(incident, **changes) -> dict:
    return {
        "title": incident.title,
        "impact_override": "",
        "postmortem_body": "",
        "update_status": "",
        "update_message": "",
        "component_status": "",
        "updates-TOTAL_FORMS": "0",
        "updates-INITIAL_FORMS": "1",
        **changes,
    }


def test_it_edits_an_incident_in_the_admin_through_the_service(
    admin_client_, turnovers, django_capture_on_commit_callbacks
):
    incident = services.incident_create(title="Login broken", message="Looking")
    url = reverse("admin:statuspage_incident_change", args=[incident.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(url, _incident_form(incident, title="Sign-in broken"))
    assert response.status_code == 302, response.content[:3000]
    assert Incident.objects.get().title == "Sign-in broken"
    assert turnovers == {"invalidate": 1, "publish": 1}


def test_it_leaves_the_page_alone_when_an_incident_edit_changes_nothing(
    turnovers, django_capture_on_commit_callbacks
):
    incident = services.incident_create(title="Login broken", message="Looking")
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_edit(incident=incident, title="Login broken")
    assert turnovers == {"invalidate": 0, "publish": 0}


# --- components ---------------------------------------------------------------------------


def test_it_edits_a_component_in_the_admin_through_the_service(
    admin_client_, turnovers, django_capture_on_commit_callbacks
):
    component = ComponentFactory()
    url = reverse("admin:statuspage_component_change", args=[component.pk])
    form = {"name": "Checkout", "description": "", "type": "service", "position": "0", "show_uptime": "on"}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(url, form)
    assert response.status_code == 302, response.content[:3000]
    assert Component.objects.get().name == "Checkout"
    assert turnovers == {"invalidate": 1, "publish": 1}


def test_it_refuses_to_edit_a_components_status_outside_set_status():
    with pytest.raises(ValueError):
        services.component_update(component=ComponentFactory(), status=ComponentStatus.MAJOR_OUTAGE)


# --- holds on probe results ---------------------------------------------------------------


def test_it_holds_a_component_while_a_timed_manual_hold_runs():
    until = timezone.now() + timedelta(hours=1)
    assert (
        services.component_status_hold(component=ComponentFactory(), manual_hold_until=until)
        == StatusHold.MANUAL
    )


def test_it_holds_a_component_with_a_manual_outage():
    component = ComponentFactory()
    services.component_set_status(component=component, status=ComponentStatus.PARTIAL_OUTAGE)
    component.refresh_from_db()
    assert services.component_status_hold(component=component) == StatusHold.MANUAL


def test_it_holds_a_component_an_open_incident_declares_unhealthy():
    component = ComponentFactory()
    services.incident_create(title="Down", message="Looking", components={component: "major_outage"})
    component.refresh_from_db()
    assert services.component_status_hold(component=component) == StatusHold.INCIDENT


def test_it_holds_a_component_under_maintenance():
    component = ComponentFactory()
    _active_window([component])
    component.refresh_from_db()
    assert services.component_status_hold(component=component) == StatusHold.MAINTENANCE


def test_it_holds_nothing_once_a_timed_hold_has_ended():
    ended = timezone.now() - timedelta(seconds=1)
    assert services.component_status_hold(component=ComponentFactory(), manual_hold_until=ended) is None


def test_it_releases_a_manual_status_as_a_system_change():
    component = ComponentFactory()
    services.component_set_status(component=component, status=ComponentStatus.MAJOR_OUTAGE)
    assert services.component_manual_status_release(
        component=component, status="operational", note="probe: 3 ms"
    )
    change = ComponentStatusChange.objects.first()
    assert (change.to_status, change.source, change.note) == (
        "operational",
        StatusSource.SYSTEM,
        "manual hold expired; probe: 3 ms",
    )


def test_it_releases_nothing_while_an_incident_holds_the_component():
    component = ComponentFactory()
    services.incident_create(title="Down", message="Looking", components={component: "major_outage"})
    assert not services.component_manual_status_release(component=component, status="operational")
    assert Component.objects.get().status == ComponentStatus.MAJOR_OUTAGE
