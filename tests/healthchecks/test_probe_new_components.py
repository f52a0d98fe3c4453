"""A health_check_url set through the status page's API or admin gets the component probed:
statuspage cannot create the probe (it sits below healthchecks), so every round creates the
missing default probes first. Also: the hold's end is set only through probe_hold."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from healthchecks.models import Probe, ProbeResult
from healthchecks.probes import services
from healthchecks.probes.services import probe_ensure_for_components, probes_run_due
from statuspage.models import Component, ComponentStatus
from statuspage.services import component_set_status
from tests.healthchecks.factories import ProbeFactory
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


def _component_form(**changes) -> dict:
    return {
        "name": "Checkout",
        "description": "",
        "type": "service",
        "position": "0",
        "show_uptime": "on",
        **changes,
    }


def test_it_probes_a_component_created_with_a_url_through_the_api(client, staff_user, target):
    client.force_login(staff_user)
    response = client.post(
        "/api/status/admin/components",
        {"name": "Checkout", "health_check_url": target.url("/ok")},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert probes_run_due().claimed == 1
    probe = Probe.objects.get(component_id=response.json()["id"])
    assert (probe.last_ok, probe.results.count()) == (True, 1)
    assert target.hits["/ok"] == 1


def test_it_probes_a_component_added_with_a_url_in_the_admin(admin_client_, target):
    response = admin_client_.post(
        reverse("admin:statuspage_component_add"), _component_form(health_check_url=target.url("/ok"))
    )
    assert response.status_code == 302, response.content[:3000]
    probes_run_due()
    assert ProbeResult.objects.get().probe.component == Component.objects.get()


def test_it_probes_a_component_given_a_url_in_the_admin(admin_client_, target):
    component = ComponentFactory()
    url = reverse("admin:statuspage_component_change", args=[component.pk])
    response = admin_client_.post(url, _component_form(health_check_url=target.url("/ok")))
    assert response.status_code == 302, response.content[:3000]
    probes_run_due()
    assert Probe.objects.get(component=component).last_ok is True


def test_it_says_in_the_admin_that_a_new_url_waits_for_the_next_round(admin_client_):
    response = admin_client_.post(
        reverse("admin:statuspage_component_add"),
        _component_form(health_check_url="https://example.com/health"),
    )
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("not probed yet" in t for t in texts)


def test_it_creates_one_default_probe_per_component_with_a_url():
    ComponentFactory(health_check_url="https://example.com/health")
    ComponentFactory()  # no URL: nothing to probe
    ProbeFactory()  # has its probe already
    assert probe_ensure_for_components() == 1
    assert probe_ensure_for_components() == 0
    assert Probe.objects.count() == 2


# --- the hold's end -----------------------------------------------------------------------


def test_it_refuses_a_past_hold_in_a_probe_update(api):
    probe = ProbeFactory()
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    response = api.patch(f"/api/operations/probes/{probe.pk}", {"manual_hold_until": past}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["manual_hold_until"] == ["The hold must end in the future."]
    assert Probe.objects.get().manual_hold_until is None


def test_it_sets_a_future_hold_through_a_probe_update(api, target):
    probe = ProbeFactory(component__health_check_url=target.url("/fail"), failures_before_down=1)
    until = timezone.now() + timedelta(hours=1)
    response = api.patch(
        f"/api/operations/probes/{probe.pk}", {"manual_hold_until": until.isoformat()}, format="json"
    )
    assert response.status_code == 200, response.json()
    probes_run_due()
    assert Component.objects.get().status == ComponentStatus.OPERATIONAL  # held against the failure


def test_it_accepts_a_put_that_echoes_a_hold_that_has_just_ended(api):
    probe = ProbeFactory(manual_hold_until=timezone.now() - timedelta(seconds=5))
    body = api.get(f"/api/operations/probes/{probe.pk}").json()
    writable = {
        k: body[k] for k in ("method", "expected_status_codes", "timeout_seconds", "manual_hold_until")
    }
    response = api.put(f"/api/operations/probes/{probe.pk}", writable, format="json")
    assert response.status_code == 200, response.json()


def test_it_shows_a_form_error_for_a_past_hold_in_the_probe_admin(admin_client_):
    probe = ProbeFactory()
    past = timezone.localtime(timezone.now() - timedelta(hours=1))
    form = {
        "url": probe.component.health_check_url,
        "method": "GET",
        "expected_status_codes": "[200]",
        "timeout_seconds": "2",
        "degraded_latency_ms": "200",
        "interval_seconds": "30",
        "failures_before_down": "3",
        "successes_before_up": "2",
        "enabled": "on",
        "manual_hold_until_0": past.strftime("%Y-%m-%d"),
        "manual_hold_until_1": past.strftime("%H:%M:%S"),
    }
    response = admin_client_.post(reverse("admin:healthchecks_probe_change", args=[probe.pk]), form)
    assert response.status_code == 200
    assert "manual_hold_until" in response.context["adminform"].form.errors
    assert Probe.objects.get().manual_hold_until is None


def test_it_leaves_the_component_alone_when_staff_renew_the_hold_during_a_round(target):
    probe = ProbeFactory(component__health_check_url=target.url("/ok"))
    component_set_status(component=probe.component, status=ComponentStatus.MAJOR_OUTAGE, note="by hand")
    Probe.objects.update(manual_hold_until=timezone.now() - timedelta(seconds=1))
    claimed = services.probes_claim_due()
    Probe.objects.update(manual_hold_until=timezone.now() + timedelta(hours=1))  # staff, meanwhile
    outcomes = services.execute_all(
        [services._spec(p, timezone.now()) for p in claimed], concurrency=1, round_deadline=5
    )
    services.probe_outcomes_apply(probes={p.pk: p for p in claimed}, outcomes=outcomes, now=timezone.now())
    assert Component.objects.get().status == ComponentStatus.MAJOR_OUTAGE
    assert Probe.objects.get().manual_hold_until > timezone.now()
