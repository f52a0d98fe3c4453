from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from config.demo import SEEDS
from healthchecks.demo import seed_probes
from healthchecks.models import Probe, ProbeResult
from healthchecks.retention import probe_results_purge
from tests.healthchecks.factories import ProbeFactory
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["probe", "proberesult"])
def test_it_opens_the_changelists_with_search(admin_client_, model):
    probe = ProbeFactory()
    ProbeResult.objects.create(probe=probe, ok=False, error="HTTP 500")
    url = reverse(f"admin:healthchecks_{model}_changelist")
    assert admin_client_.get(url).status_code == 200
    assert admin_client_.get(url, {"q": "x"}).status_code == 200


def _form(component, **changes) -> dict:
    return {
        "component": component.pk,
        "kind": "http",
        "record_type": "A",
        "expected_values": "[]",
        "nameserver_port": "53",
        "url": "https://app.example.com/health",
        "method": "GET",
        "expected_status_codes": "[200]",
        "timeout_seconds": "5",
        "degraded_latency_ms": "2000",
        "interval_seconds": "30",
        "failures_before_down": "3",
        "successes_before_up": "2",
        "enabled": "on",
        **changes,
    }


def test_it_adds_a_probe_from_the_admin_and_sets_the_url(admin_client_):
    component = ComponentFactory()
    response = admin_client_.post(reverse("admin:healthchecks_probe_add"), _form(component))
    assert response.status_code == 302, response.content[:3000]
    component.refresh_from_db()
    assert component.health_check_url == "https://app.example.com/health"
    assert Probe.objects.get().component == component


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "gopher://example.com"}, "url"),
        ({"timeout_seconds": "0"}, "timeout_seconds"),
        ({"expected_status_codes": "[1000]"}, "expected_status_codes"),
        ({"failures_before_down": "0"}, "failures_before_down"),
    ],
)
def test_it_shows_form_errors_for_bad_settings(admin_client_, changes, field):
    response = admin_client_.post(
        reverse("admin:healthchecks_probe_add"), _form(ComponentFactory(), **changes)
    )
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Probe.objects.exists()


def test_it_edits_a_probe_in_the_admin(admin_client_):
    probe = ProbeFactory()
    url = reverse("admin:healthchecks_probe_change", args=[probe.pk])
    assert admin_client_.get(url).status_code == 200
    data = _form(probe.component, failures_before_down="5")
    data.pop("component")
    response = admin_client_.post(url, data)
    assert response.status_code == 302, response.content[:3000]
    probe.refresh_from_db()
    assert probe.failures_before_down == 5


def test_it_purges_old_probe_results_only(settings):
    settings.PROBE_RESULTS_RETENTION_DAYS = 7
    probe = ProbeFactory()
    now = timezone.now()
    ProbeResult.objects.create(probe=probe, ok=True, checked_at=now - timedelta(days=8))
    recent = ProbeResult.objects.create(probe=probe, ok=True, checked_at=now - timedelta(days=6))
    assert probe_results_purge(now) == {"probe results": 1}
    assert list(ProbeResult.objects.all()) == [recent]


def test_it_seeds_demo_probes_idempotently():
    for name in ("Website", "Dashboard", "REST API", "CDN"):
        ComponentFactory(name=name)  # what the status page seed makes (its 90 days of history are slow)
    first = seed_probes()
    count = Probe.objects.count()
    assert count == 3
    assert "created" in first
    seed_probes()
    assert Probe.objects.count() == count
    assert all(p.component.health_check_url.endswith("/health/live") for p in Probe.objects.all())
    assert seed_probes in SEEDS


def test_it_adds_a_tcp_probe_beside_the_http_probe_in_the_admin(admin_client_):
    probe = ProbeFactory()
    data = _form(probe.component, kind="tcp", url="", host="db.example.com", port="5432")
    response = admin_client_.post(reverse("admin:healthchecks_probe_add"), data)
    assert response.status_code == 302, response.content[:3000]
    assert sorted(probe.component.probes.values_list("kind", flat=True)) == ["http", "tcp"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "tcp", "url": "", "host": "db.example.com"}, "port"),
        ({"kind": "dns", "url": ""}, "host"),
        ({"kind": "tls", "url": "", "host": "169.254.169.254"}, "host"),
        ({"kind": "http", "url": ""}, "url"),
    ],
)
def test_it_shows_form_errors_for_bad_kind_fields(admin_client_, changes, field):
    response = admin_client_.post(
        reverse("admin:healthchecks_probe_add"), _form(ComponentFactory(), **changes)
    )
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors


def test_it_refuses_a_second_http_probe_in_the_admin(admin_client_):
    probe = ProbeFactory()
    response = admin_client_.post(reverse("admin:healthchecks_probe_add"), _form(probe.component))
    assert response.status_code == 200
    assert "kind" in response.context["adminform"].form.errors
