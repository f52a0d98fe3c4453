"""A component's status from the locations that probe it: each location's verdict is the worst
of its probes' verdicts there, and the component takes the worst status that a quorum of the
reporting locations reach (more than half of them unless the component sets a number).

The server's own location is one location where it runs probes (those assigned to no
location). A silent location (its agent stopped reporting) does not report: its stale verdicts
never count. With one location the quorum is one, so the status is the worst verdict, as
before agents.
"""

from collections import defaultdict
from datetime import datetime

from alerts.models import Alert, AlertEvent, Severity
from alerts.services import alert_raise, alert_resolve
from healthchecks.agents.models import ComponentQuorum, ProbeLocation, ProbeLocationState
from healthchecks.models import OUTAGE_STATUSES, Probe
from healthchecks.probes.holds import component_set_status_automatic
from statuspage.models import STATUS_SEVERITY, Component, StatusSource

SERVER = "server"  # the key of the server's own location in a component's verdicts


def required_locations(reporting: int, setting: int | None) -> int:
    """How many locations must agree: the component's setting (at most those reporting) or a
    majority."""
    if setting:
        return max(1, min(setting, reporting))
    return reporting // 2 + 1


def quorum_status(verdicts: list[str], setting: int | None = None) -> str | None:
    """The worst status at least the quorum of these location verdicts reach; None if none report."""
    if not verdicts:
        return None
    ranked = sorted(verdicts, key=lambda status: STATUS_SEVERITY[status], reverse=True)
    return ranked[required_locations(len(ranked), setting) - 1]


def location_verdicts(
    component_ids, overrides: dict[int, str] | None = None
) -> dict[int, dict[str | int, str]]:
    """Per component: each reporting location's verdict (SERVER for the server's own probes).
    `overrides` gives the verdicts of server probes that a round has just moved in memory."""
    overrides = overrides or {}
    assigned: dict[int, set[int]] = defaultdict(set)
    probes = list(
        Probe.objects.filter(component__in=list(component_ids), enabled=True).values_list(
            "pk", "component_id", "verdict"
        )
    )
    through = Probe.locations.through
    for probe_id, location_id in through.objects.filter(probe__in=[p[0] for p in probes]).values_list(
        "probe_id", "probelocation_id"
    ):
        assigned[probe_id].add(location_id)
    per_location: dict[int, dict[str | int, list[str]]] = defaultdict(lambda: defaultdict(list))
    component_of = {}
    for probe_id, component_id, verdict in probes:
        component_of[probe_id] = component_id
        if not assigned[probe_id]:
            verdict = overrides.get(probe_id, verdict)
            if verdict:
                per_location[component_id][SERVER].append(verdict)
    if assigned:
        silent = set(ProbeLocation.objects.filter(is_silent=True).values_list("pk", flat=True))
        states = ProbeLocationState.objects.filter(probe__in=list(assigned)).exclude(verdict="")
        for probe_id, location_id, verdict in states.values_list("probe_id", "location_id", "verdict"):
            if location_id in assigned[probe_id] and location_id not in silent:
                per_location[component_of[probe_id]][location_id].append(verdict)
    return {
        component_id: {
            where: max(found, key=lambda status: STATUS_SEVERITY[status])
            for where, found in locations.items()
        }
        for component_id, locations in per_location.items()
    }


def component_statuses(component_ids, overrides: dict[int, str] | None = None) -> dict[int, str]:
    """The status the quorum of each component's locations calls for (components no location
    reports for are left out)."""
    settings = dict(
        ComponentQuorum.objects.filter(component__in=list(component_ids)).values_list(
            "component_id", "locations_required"
        )
    )
    statuses = {}
    for component_id, verdicts in location_verdicts(component_ids, overrides).items():
        status = quorum_status(list(verdicts.values()), settings.get(component_id))
        if status is not None:
            statuses[component_id] = status
    return statuses


def agent_watched(component_ids) -> set[int]:
    """The components some location other than the server probes."""
    return set(
        Probe.objects.filter(component__in=list(component_ids), enabled=True, locations__isnull=False)
        .values_list("component_id", flat=True)
        .distinct()
    )


def component_fingerprint(component_id: int) -> str:
    return f"probe:{component_id}"  # the same alert as a server probe's (Probe.fingerprint)


def quorum_apply(statuses: dict[int, str], *, note: str, at: datetime, now: datetime) -> tuple[int, int, int]:
    """Set each component to the status its quorum calls for, and raise or resolve its alert
    as that status enters or leaves an outage. Returns (status changes, raised, resolved)."""
    changes = raised = resolved = 0
    components = Component.objects.in_bulk(list(statuses))
    open_alerts = {
        alert.fingerprint: alert
        for alert in Alert.objects.open().filter(
            fingerprint__in=[component_fingerprint(pk) for pk in statuses]
        )
    }
    for component_id, status in statuses.items():
        component = components.get(component_id)
        if component is None:
            continue
        if component.status != status and component_set_status_automatic(
            component=component, status=status, source=StatusSource.PROBE, note=note[:200], at=at, now=now
        ):
            changes += 1
        alert = open_alerts.get(component_fingerprint(component_id))
        if status in OUTAGE_STATUSES and alert is None:
            alert_raise(
                fingerprint=component_fingerprint(component_id),
                title=f"{component.name} is down",
                severity=Severity.CRITICAL,
                alert_type=Alert.Type.PROBE,
                message=f"a quorum of the locations probing it finds it down ({note})"[:1000],
                metric="probe.up",
                value=0.0,
                labels={"component_id": component_id},
                component=component,
                actor_type=AlertEvent.Actor.SYSTEM,
                now=now,
            )
            raised += 1
        elif status not in OUTAGE_STATUSES and alert is not None:
            alert_resolve(
                alert=alert,
                note="a quorum of the locations probing it finds it up",
                actor_type=AlertEvent.Actor.SYSTEM,
                now=now,
            )
            resolved += 1
    return changes, raised, resolved
