from datetime import datetime

from django.utils import timezone

from healthchecks.models import Heartbeat


def heartbeat_record(*, kind: str, name: str, now: datetime | None = None) -> Heartbeat:
    """Upsert one heartbeat row. A single INSERT ... ON CONFLICT, so two processes
    recording at once never collide on the unique (kind, name)."""
    beat = Heartbeat(kind=kind, name=name[:200], last_seen=now or timezone.now())
    Heartbeat.objects.bulk_create(
        [beat], update_conflicts=True, unique_fields=["kind", "name"], update_fields=["last_seen"]
    )
    return beat


def heartbeat_ages(now: datetime | None = None) -> dict[str, float | None]:
    """Seconds since the freshest beat and the freshest worker heartbeat (None: never seen)."""
    now = now or timezone.now()
    ages: dict[str, float | None] = {Heartbeat.Kind.BEAT: None, Heartbeat.Kind.WORKER: None}
    for kind in ages:
        latest = Heartbeat.objects.filter(kind=kind).order_by("-last_seen").first()
        if latest is not None:
            ages[kind] = round(latest.age_seconds(now), 1)
    return ages
