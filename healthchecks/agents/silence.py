"""Silent locations: an agent that stops reporting raises its location's own alert (one per
location), and the location's stale verdicts stop counting; it never changes a component."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from alerts.models import Alert, AlertEvent, Severity
from alerts.services import alert_raise, alert_resolve
from healthchecks.agents.models import ProbeLocation

logger = logging.getLogger(__name__)


def location_back(location: ProbeLocation, *, now: datetime) -> bool:
    """A silent location reports again: its alert is resolved (once, whoever gets here first)."""
    if not ProbeLocation.objects.filter(pk=location.pk, is_silent=True).update(is_silent=False):
        return False
    alert = Alert.objects.open().filter(fingerprint=location.fingerprint).first()
    if alert is not None:
        alert_resolve(
            alert=alert, note="its agent reports again", actor_type=AlertEvent.Actor.SYSTEM, now=now
        )
    logger.info("probe location %s reports again", location.slug)
    return True


def locations_check_silent(*, now: datetime | None = None) -> int:
    """Raise the alert of every location that has not reported for AGENT_SILENT_INTERVALS of
    its shortest probe interval (one alert per location). Its verdicts stop counting at once;
    no component changes because of it. Returns how many went silent now."""
    now = now or timezone.now()
    went_silent = 0
    locations = (
        ProbeLocation.objects.filter(is_silent=False, probes__enabled=True)
        .annotate(shortest=Min("probes__interval_seconds"))
        .distinct()
    )
    for location in locations:
        limit = timedelta(seconds=settings.AGENT_SILENT_INTERVALS * location.shortest)
        since = location.last_result_at or location.created_at
        if now - since <= limit:
            continue
        if not ProbeLocation.objects.filter(pk=location.pk, is_silent=False).update(is_silent=True):
            continue  # another round got there first
        went_silent += 1
        heard = f"last result {since:%Y-%m-%d %H:%M:%S} UTC" if location.last_result_at else "no result yet"
        alert_raise(
            fingerprint=location.fingerprint,
            title=f"Probe location {location.name} is silent",
            severity=Severity.HIGH,
            alert_type=Alert.Type.PROBE,
            message=f"Its agent has not reported for {int(limit.total_seconds())} s ({heard}); "
            "its verdicts no longer count towards any component's status.",
            labels={"location": location.slug},
            actor_type=AlertEvent.Actor.SYSTEM,
            now=now,
        )
        logger.warning("probe location %s is silent (%s)", location.slug, heard)
    return went_silent
