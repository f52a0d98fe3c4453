"""A DNS probe's nameserver follows the outbound-address rule of every probe (core/outbound.py):
refused when saved (API 400 naming the field, admin form error) and again when the probe runs."""

import pytest
from django.urls import reverse
from django.utils import timezone

from healthchecks.models import Probe, ProbeResult
from healthchecks.probes.services import probes_run_due
from tests.healthchecks.factories import ProbeFactory
from tests.healthchecks.test_probe_admin_and_retention import _form
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db

REFUSED = ["169.254.169.254", "fd00:ec2::254", "224.0.0.251", "0.0.0.0"]


def _post(api, nameserver):
    component = ComponentFactory(health_check_url="")
    payload = {"component": component.pk, "kind": "dns", "host": "example.com", "nameserver": nameserver}
    return api.post("/api/operations/probes", payload, format="json")


@pytest.mark.parametrize("nameserver", REFUSED)
def test_it_refuses_a_nameserver_probes_may_not_reach(api, nameserver):
    response = _post(api, nameserver)
    assert response.status_code == 400
    assert "may not send DNS queries" in response.json()["errors"]["nameserver"][0]


@pytest.mark.parametrize("nameserver", ["10.0.0.53", "127.0.0.1", "192.0.2.53", "2001:db8::53"])
def test_it_accepts_internal_and_public_nameservers(api, nameserver):
    assert _post(api, nameserver).status_code == 201


def test_it_accepts_a_refused_address_its_network_is_allowed_for(api, settings):
    settings.PROBE_ALLOWED_NETWORKS = ["169.254.0.0/16"]
    assert _post(api, "169.254.169.254").status_code == 201


def test_it_shows_the_rule_as_a_form_error_in_the_admin(admin_client_):
    component = ComponentFactory(health_check_url="")
    form = _form(component, kind="dns", host="example.com", url="", nameserver="169.254.169.254")
    response = admin_client_.post(reverse("admin:healthchecks_probe_add"), form)
    assert response.status_code == 200
    assert "nameserver" in response.context["adminform"].form.errors
    assert not Probe.objects.exists()


def test_it_does_not_query_a_refused_nameserver_saved_before_the_rule():
    probe = ProbeFactory(
        component=ComponentFactory(health_check_url=""),
        kind=Probe.Kind.DNS,
        host="example.com",
        nameserver="169.254.169.254",
        timeout_seconds=0.5,
    )
    Probe.objects.update(next_due_at=timezone.now())
    probes_run_due()
    result = ProbeResult.objects.get(probe=probe)
    assert not result.ok
    assert result.error.startswith("Vigil may not send DNS queries to 169.254.169.254")
