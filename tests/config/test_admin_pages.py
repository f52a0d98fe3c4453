"""Every admin changelist, add and change page, as each role: 200 where the role allows it,
403 where it does not. Models come from the admin registry, so new ones are covered."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from tests.config.factories import ops_world, role_user

pytestmark = pytest.mark.django_db
ROLES = ["superuser", "administrator", "operator", "viewer"]


def _registry():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _expected(allowed: bool) -> int:
    return 200 if allowed else 403


@pytest.mark.parametrize("role", ROLES)
def test_it_opens_every_admin_page_as_each_role(client, role):
    ops_world()
    user = role_user(role)
    client.force_login(user)
    request = RequestFactory().get("/admin/")
    request.user = user
    failures = []
    for model, model_admin in _registry():
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        can_view = model_admin.has_view_or_change_permission(request)
        response = client.get(reverse(f"{prefix}_changelist"))
        # A one-row model's changelist redirects to its row.
        if response.status_code not in ((200, 302) if can_view else (403,)):
            failures.append(f"{opts.label} changelist: {response.status_code}")
        response = client.get(reverse(f"{prefix}_add"))
        if response.status_code != _expected(model_admin.has_add_permission(request)):
            failures.append(f"{opts.label} add: {response.status_code}")
        obj = model_admin.get_queryset(request).first() if can_view else model._default_manager.first()
        if obj is not None:
            response = client.get(reverse(f"{prefix}_change", args=[obj.pk]))
            if response.status_code != _expected(can_view):
                failures.append(f"{opts.label} change: {response.status_code}")
    assert not failures, failures


def test_it_lets_a_viewer_see_but_not_add_incidents(client):
    client.force_login(role_user("viewer"))
    assert client.get(reverse("admin:statuspage_incident_changelist")).status_code == 200
    assert client.get(reverse("admin:statuspage_incident_add")).status_code == 403


def test_it_lets_an_operator_add_incidents_but_not_rules(client):
    client.force_login(role_user("operator"))
    assert client.get(reverse("admin:statuspage_incident_add")).status_code == 200
    assert client.get(reverse("admin:alerts_alertrule_add")).status_code == 403
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_it_lets_an_administrator_add_rules_and_users(client):
    client.force_login(role_user("administrator"))
    assert client.get(reverse("admin:alerts_alertrule_add")).status_code == 200
    assert client.get(reverse("admin:auth_user_add")).status_code == 200


def test_it_filters_components_that_need_attention(client):
    from tests.statuspage.factories import ComponentFactory

    ComponentFactory(name="Fine")
    ComponentFactory(name="Broken", status="major_outage")
    client.force_login(role_user("viewer"))
    page = client.get(reverse("admin:statuspage_component_changelist") + "?attention=yes").content.decode()
    assert "Broken" in page and ">Fine<" not in page


def test_it_pages_metrics_without_counting_the_whole_table(client):
    from monitoring.models import Metric
    from tests.monitoring.factories import MetricFactory

    MetricFactory()
    model_admin = admin.site._registry[Metric]
    assert model_admin.paginator.__name__ == "CheapPaginator" and model_admin.show_full_result_count is False
    client.force_login(role_user("viewer"))
    assert client.get(reverse("admin:monitoring_metric_changelist")).status_code == 200
