"""A component's health_check_url and its probe are one thing: however the URL is set, the
component is probed."""

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from healthchecks.models import Probe, ProbeResult
from healthchecks.probes.services import probes_ensure_for_components, probes_run_due
from statuspage.models import Component
from tests.config.factories import role_user
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


def _probed(component: Component) -> bool:
    Probe.objects.update(next_due_at=timezone.now())
    probes_run_due()
    return ProbeResult.objects.filter(probe__component=component, ok=True).exists()


def test_it_probes_a_component_created_with_a_url_through_the_api(target):
    client = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=role_user('operator')).key}")
    response = client.post(
        "/api/status/admin/components",
        {"name": "Search", "type": "service", "health_check_url": target.url("/ok")},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert _probed(Component.objects.get(name="Search"))


def test_it_probes_a_component_added_with_a_url_in_the_admin(client, target):
    client.force_login(role_user("operator"))
    response = client.post(
        reverse("admin:statuspage_component_add"),
        {
            "name": "Search",
            "type": "service",
            "position": 0,
            "health_check_url": target.url("/ok"),
            "show_uptime": "on",
            "description": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert _probed(Component.objects.get(name="Search"))


def test_it_probes_a_url_set_later_on_an_existing_component(client, target):
    component = ComponentFactory(name="Search", health_check_url="")
    client.force_login(role_user("operator"))
    response = client.post(
        reverse("admin:statuspage_component_change", args=[component.pk]),
        {
            "name": "Search",
            "type": component.type,
            "position": 0,
            "health_check_url": target.url("/ok"),
            "show_uptime": "on",
            "description": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert _probed(component)


def test_it_creates_one_probe_per_component_however_often_it_runs():
    ComponentFactory(health_check_url="http://127.0.0.1:9/health")
    ComponentFactory(health_check_url="")
    probes_ensure_for_components()
    probes_ensure_for_components()
    assert Probe.objects.count() == 1
