"""Demo probes: a few demo components probe Vigil's own /health/live, so the demo shows real
probes running (results, metrics, status) without reaching outside the machine."""

from django.conf import settings

from healthchecks.models import Probe
from healthchecks.probes.services import probe_configure
from statuspage.models import Component

# component name (from the status page seed) -> probe settings
DEMO_PROBES = {
    "Website": {"keyword": "ok"},
    "Dashboard": {"json_path": "status", "json_value": "ok"},
    "REST API": {"degraded_latency_ms": 1500},
}


def seed_probes() -> str:
    url = f"{settings.PUBLIC_URL}/health/live"
    created = 0
    for name, options in DEMO_PROBES.items():
        component = Component.objects.filter(name=name).first()
        if component is None or Probe.objects.filter(component=component).exists():
            continue
        probe_configure(component=component, url=url, timeout_seconds=3.0, **options)
        created += 1
    return f"probes: {created} created against {url}" if created else "probes: already there"
