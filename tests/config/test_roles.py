import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from config.roles import ADMINISTRATORS, OPERATORS, VIEWERS, sync_roles
from tests.config.factories import role_user

pytestmark = pytest.mark.django_db


def test_it_creates_the_three_groups_by_migration():
    assert set(Group.objects.values_list("name", flat=True)) >= {VIEWERS, OPERATORS, ADMINISTRATORS}


def test_it_lets_viewers_only_view():
    viewer = role_user("viewer")
    assert viewer.has_perms(["alerts.view_alertrule", "statuspage.view_incident", "config.view_auditentry"])
    assert not viewer.has_perm("statuspage.change_incident")
    codenames = Group.objects.get(name=VIEWERS).permissions.values_list("codename", flat=True)
    assert all(codename.startswith("view_") for codename in codenames)


def test_it_lets_operators_run_incidents_but_not_rules_channels_or_users():
    operator = role_user("operator")
    assert operator.has_perms(
        [
            "statuspage.add_incident",
            "statuspage.change_maintenance",
            "statuspage.change_component",
            "alerts.change_alert",
            "alerts.add_silence",
            "alerts.view_alertrule",
        ]
    )
    assert not operator.has_perm("alerts.change_alertrule")
    assert not operator.has_perm("notifications.change_channel")
    assert not operator.has_perm("config.change_operationsconfig")
    assert not operator.has_perm("auth.change_user")


def test_it_gives_administrators_every_permission():
    administrator = role_user("administrator")
    assert administrator.has_perms(
        ["alerts.delete_alertrule", "notifications.add_channel", "auth.add_user", "authtoken.add_token"]
    )
    assert Group.objects.get(name=ADMINISTRATORS).permissions.count() == Permission.objects.count()


def test_it_keeps_roles_in_sync_when_a_model_appears():
    content_type = ContentType.objects.create(app_label="alerts", model="newthing")
    Permission.objects.create(codename="view_newthing", name="Can view new thing", content_type=content_type)
    sync_roles()
    assert Group.objects.get(name=VIEWERS).permissions.filter(codename="view_newthing").exists()


def test_it_undoes_hand_edits_to_a_role():
    viewers = Group.objects.get(name=VIEWERS)
    viewers.permissions.add(Permission.objects.get(codename="delete_alertrule"))
    call_command("sync_roles", stdout=io.StringIO())
    assert not viewers.permissions.filter(codename="delete_alertrule").exists()


def test_it_reports_counts_from_the_command():
    out = io.StringIO()
    call_command("sync_roles", stdout=out)
    assert "Viewers:" in out.getvalue() and "Administrators:" in out.getvalue()


def test_it_counts_only_vigils_own_apps_even_with_the_virtualenv_inside_the_project():
    from config.roles import vigil_app_labels

    labels = vigil_app_labels()
    assert {"alerts", "statuspage", "monitoring", "notifications", "healthchecks", "config"} <= set(labels)
    assert not {"auth", "admin", "rest_framework", "django_filters"} & set(labels)
