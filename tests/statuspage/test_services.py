from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from statuspage import services
from statuspage.models import (
    ComponentStatusChange,
    Impact,
    IncidentStatus,
    Maintenance,
    MaintenanceStatus,
    StatusSource,
)
from statuspage.queries import overall_status, page_state
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


def _open(components: dict, status="investigating", **kwargs):
    return services.incident_create(
        title="Trouble", message="Looking", status=status, components=components, **kwargs
    )


def _maintenance(components, *, start_in=timedelta(hours=1), length=timedelta(hours=1), **kwargs):
    start = timezone.now() + start_in
    return services.maintenance_schedule(
        title="Upgrade", scheduled_for=start, scheduled_until=start + length, components=components, **kwargs
    )


# --- component status ---------------------------------------------------------------------


def test_it_records_every_status_change_with_source_and_actor(staff_user):
    api = ComponentFactory()
    services.component_set_status(component=api, status="major_outage", actor=staff_user)
    change = ComponentStatusChange.objects.get(component=api)
    assert (change.from_status, change.to_status, change.source, change.actor) == (
        "operational",
        "major_outage",
        "manual",
        staff_user,
    )


def test_it_writes_no_record_when_the_status_does_not_change():
    api = ComponentFactory()
    assert services.component_set_status(component=api, status="operational") is False
    assert not ComponentStatusChange.objects.exists()


def test_it_refuses_an_unknown_component_status():
    with pytest.raises(ValueError):
        services.component_set_status(component=ComponentFactory(), status="on_fire")


def test_it_lets_a_probe_set_a_component_nobody_holds():
    api = ComponentFactory()
    assert services.component_set_status(component=api, status="major_outage", source=StatusSource.PROBE)
    api.refresh_from_db()
    assert (api.status, api.status_source) == ("major_outage", "probe")


def test_it_ignores_a_probe_while_staff_hold_the_component_by_hand():
    api = ComponentFactory()
    services.component_set_status(component=api, status="degraded_performance")
    assert not services.component_set_status(component=api, status="operational", source=StatusSource.PROBE)
    api.refresh_from_db()
    assert api.status == "degraded_performance"


def test_it_ignores_a_probe_during_maintenance():
    api = ComponentFactory()
    services.maintenance_start(maintenance=_maintenance([api]))
    assert not services.component_set_status(component=api, status="major_outage", source=StatusSource.PROBE)


def test_it_ignores_a_probe_while_an_open_incident_holds_the_component():
    api = ComponentFactory()
    _open({api: "partial_outage"})
    assert not services.component_set_status(component=api, status="operational", source=StatusSource.PROBE)


# --- incidents ------------------------------------------------------------------------------


def test_it_creates_an_incident_with_its_first_update_and_component_statuses(staff_user):
    api = ComponentFactory()
    incident = _open({api: "major_outage"}, author=staff_user)
    api.refresh_from_db()
    assert api.status == "major_outage"
    assert incident.impact == Impact.CRITICAL
    update = incident.updates.get()
    assert update.affected_components == [
        {"code": str(api.pk), "name": api.name, "old_status": "operational", "new_status": "major_outage"}
    ]


def test_it_uses_the_impact_override_over_the_derived_impact():
    incident = _open({ComponentFactory(): "degraded_performance"}, impact_override="critical")
    assert (incident.impact, incident.effective_impact) == ("minor", "critical")


@pytest.mark.parametrize(
    "old,new",
    [
        ("investigating", "identified"),
        ("identified", "monitoring"),
        ("monitoring", "investigating"),
        ("investigating", "resolved"),
        ("monitoring", "monitoring"),
    ],
)
def test_it_allows_the_open_transitions(old, new):
    incident = _open({}, status=old)
    services.incident_update_create(incident=incident, status=new, message="next")
    incident.refresh_from_db()
    assert incident.status == new


@pytest.mark.parametrize(
    "old,new",
    [("resolved", "investigating"), ("resolved", "monitoring"), ("investigating", "postmortem")],
)
def test_it_refuses_illegal_incident_transitions(old, new):
    incident = _open({}, status=old)
    with pytest.raises(services.IllegalTransition):
        services.incident_update_create(incident=incident, status=new, message="no")


def test_it_publishes_a_postmortem_only_after_resolution():
    incident = _open({})
    with pytest.raises(services.IllegalTransition):
        services.incident_postmortem_publish(incident=incident, body="why")
    services.incident_update_create(incident=incident, status="resolved", message="fixed")
    incident = services.incident_postmortem_publish(incident=incident, body="why")
    assert incident.status == IncidentStatus.POSTMORTEM
    assert incident.postmortem_published_at is not None


def test_it_sets_monitoring_and_resolved_times():
    incident = _open({})
    services.incident_update_create(incident=incident, status="monitoring", message="watching")
    services.incident_update_create(incident=incident, status="resolved", message="fixed")
    incident.refresh_from_db()
    assert incident.monitoring_at and incident.resolved_at


def test_it_restores_components_when_the_incident_resolves():
    api = ComponentFactory()
    incident = _open({api: "major_outage"})
    services.incident_update_create(incident=incident, status="resolved", message="fixed")
    api.refresh_from_db()
    assert (api.status, api.status_source) == ("operational", "system")


def test_it_keeps_a_component_that_another_open_incident_still_holds():
    api = ComponentFactory()
    first = _open({api: "major_outage"})
    _open({api: "degraded_performance"})
    services.incident_update_create(incident=first, status="resolved", message="fixed")
    api.refresh_from_db()
    assert api.status == "degraded_performance"


def test_it_shows_the_worst_status_two_open_incidents_declare():
    api = ComponentFactory()
    _open({api: "major_outage"})
    _open({api: "degraded_performance"})
    api.refresh_from_db()
    assert api.status == "major_outage"


def test_it_returns_a_component_to_maintenance_when_an_incident_resolves_during_it():
    api = ComponentFactory()
    services.maintenance_start(maintenance=_maintenance([api]))
    incident = _open({api: "major_outage"})
    api.refresh_from_db()
    assert api.status == "major_outage"
    services.incident_update_create(incident=incident, status="resolved", message="fixed")
    api.refresh_from_db()
    assert (api.status, api.status_source) == ("under_maintenance", "maintenance")


# --- maintenance ----------------------------------------------------------------------------


def test_it_puts_components_under_maintenance_and_restores_them():
    api, web = ComponentFactory(), ComponentFactory()
    maintenance = _maintenance([api, web])
    services.maintenance_start(maintenance=maintenance)
    api.refresh_from_db()
    assert api.status == "under_maintenance"
    services.maintenance_complete(maintenance=maintenance)
    api.refresh_from_db()
    assert api.status == "operational"
    assert list(ComponentStatusChange.objects.filter(component=api).values_list("source", flat=True)) == [
        "system",
        "maintenance",
    ]


def test_it_keeps_a_component_under_an_overlapping_maintenance():
    api = ComponentFactory()
    first, second = _maintenance([api]), _maintenance([api])
    services.maintenance_start(maintenance=first)
    services.maintenance_start(maintenance=second)
    services.maintenance_complete(maintenance=first)
    api.refresh_from_db()
    assert api.status == "under_maintenance"


def test_it_leaves_an_incident_status_in_place_when_maintenance_completes():
    api = ComponentFactory()
    maintenance = _maintenance([api])
    services.maintenance_start(maintenance=maintenance)
    _open({api: "partial_outage"})
    services.maintenance_complete(maintenance=maintenance)
    api.refresh_from_db()
    assert api.status == "partial_outage"


def test_it_refuses_to_start_twice_or_complete_scheduled_maintenance():
    maintenance = _maintenance([ComponentFactory()])
    with pytest.raises(services.IllegalTransition):
        services.maintenance_complete(maintenance=maintenance)
    services.maintenance_start(maintenance=maintenance)
    with pytest.raises(services.IllegalTransition):
        services.maintenance_start(maintenance=maintenance)


def test_it_refuses_a_window_that_ends_before_it_starts():
    now = timezone.now()
    with pytest.raises(ValueError):
        services.maintenance_schedule(title="x", scheduled_for=now, scheduled_until=now)


def test_it_starts_and_completes_due_maintenance_on_the_beat():
    api = ComponentFactory()
    maintenance = _maintenance([api], start_in=timedelta(minutes=5), length=timedelta(minutes=30))
    manual = _maintenance([ComponentFactory()], start_in=timedelta(minutes=5), auto_start=False)
    assert services.maintenance_start_due() == "maintenance: 0 started, 0 completed"
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert services.maintenance_start_due() == "maintenance: 1 started, 0 completed"
        assert services.maintenance_start_due() == "maintenance: 0 started, 0 completed"
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        assert services.maintenance_start_due() == "maintenance: 0 started, 1 completed"
    maintenance.refresh_from_db()
    manual.refresh_from_db()
    assert (maintenance.status, manual.status) == ("completed", "scheduled")


def test_it_runs_the_beat_job_as_a_management_command():
    from django.core.management import call_command

    _maintenance([ComponentFactory()], start_in=timedelta(minutes=-1))
    call_command("start_due_maintenance")
    assert Maintenance.objects.get().status == MaintenanceStatus.IN_PROGRESS


# --- the overall indicator ------------------------------------------------------------------


@pytest.mark.parametrize(
    "statuses,indicator,description",
    [
        (["operational", "operational"], "none", "All Systems Operational"),
        (["operational", "degraded_performance"], "minor", "Minor Service Outage"),
        (["partial_outage", "degraded_performance"], "major", "Partial System Outage"),
        (["major_outage", "operational"], "critical", "Major System Outage"),
        (["under_maintenance", "operational"], "none", "Service Under Maintenance"),
    ],
)
def test_it_derives_the_overall_indicator_from_components(statuses, indicator, description):
    components = [ComponentFactory.build(status=s) for s in statuses]
    overall = overall_status(components, [])
    assert (overall.indicator, overall.description) == (indicator, description)


def test_it_raises_the_indicator_to_an_open_incidents_impact():
    _open({ComponentFactory(): "degraded_performance"}, impact_override="critical")
    assert page_state(with_uptime=False).overall.indicator == "critical"


def test_it_keeps_components_under_maintenance_while_verifying():
    api = ComponentFactory()
    maintenance = _maintenance([api])
    services.maintenance_start(maintenance=maintenance)
    services.maintenance_update_create(maintenance=maintenance, status="verifying", message="Checking")
    api.refresh_from_db()
    assert api.status == "under_maintenance"
    with pytest.raises(services.IllegalTransition):
        services.maintenance_update_create(maintenance=maintenance, status="scheduled", message="Back")
    services.maintenance_complete(maintenance=maintenance)
    api.refresh_from_db()
    assert api.status == "operational"
