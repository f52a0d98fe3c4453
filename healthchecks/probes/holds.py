"""A timed hold staff set through one of a component's probes holds the whole component: its
other probes, the quorum of its agents' locations and its heartbeat checks all yield to it. The
hold is kept on the probe it was set through (probe_hold); this is where every automatic status
reaches a component, so none of them can go around it."""

from datetime import datetime

from django.db.models import Max

from healthchecks.models import Probe
from statuspage.models import Component
from statuspage.services import component_manual_status_release, component_set_status


def component_hold_until(component_id: int) -> datetime | None:
    """The latest timed hold set through any of the component's probes (ended or not)."""
    return Probe.objects.filter(component_id=component_id).aggregate(until=Max("manual_hold_until"))["until"]


def component_set_status_automatic(
    *, component: Component, status: str, source: str, note: str, at: datetime, now: datetime
) -> bool:
    """Set what a probe, a quorum or a check found, unless something holds the component. The
    first result after a timed hold ends hands the component back (component_manual_status_release)
    and clears the hold, unless staff set a new one meanwhile. Returns whether the status changed."""
    until = component_hold_until(component.pk)
    if until is not None and until <= now:
        cleared = Probe.objects.filter(component_id=component.pk, manual_hold_until__lte=now).update(
            manual_hold_until=None
        )
        if Probe.objects.filter(component_id=component.pk, manual_hold_until__gt=now).exists():
            return False
        if cleared:
            return component_manual_status_release(component=component, status=status, note=note, at=at)
        until = None  # another round handed it back a moment ago: this result counts as usual
    return component_set_status(
        component=component, status=status, source=source, manual_hold_until=until, note=note, at=at
    )
