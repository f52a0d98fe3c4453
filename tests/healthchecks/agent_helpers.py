"""Helpers of the agent tests: locations with keys, and results as an agent sends them."""

import uuid
from datetime import timedelta

from django.utils import timezone

from healthchecks.agents.services import agent_key_create, location_create


def location_with_key(name: str):
    location = location_create(name=name)
    _, secret = agent_key_create(location=location, name=f"{name}-host")
    return location, secret


def result(probe, verdict: str = "ok", *, at=None, latency: float | None = 12.5, detail: str = "") -> dict:
    return {
        "id": str(uuid.uuid4()),
        "probe": probe.pk,
        "checked_at": (at or timezone.now()).isoformat(),
        "verdict": verdict,
        "latency_ms": latency,
        "status_code": None,
        "detail": detail,
    }


def results_in_a_row(probe, verdict: str, count: int) -> list[dict]:
    # Just before now, a microsecond apart: a later call's results are newer than these.
    start = timezone.now() - timedelta(microseconds=count)
    return [result(probe, verdict, at=start + timedelta(microseconds=n)) for n in range(count)]


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
