"""Roles: three groups whose permissions one function computes and keeps in sync.

- Viewers: view every model of Vigil's apps.
- Operators: what Viewers see, plus add/change/delete on what an incident needs (incidents,
  maintenance, alerts, silences, components).
- Administrators: every permission there is (rules, channels, config, users and tokens too).

The admin and the API check the same Django permissions (config/permissions.py), so a role
means the same in both. sync_roles() runs from a data migration, after every `migrate`
(post_migrate, like Django's own permission creation, so a model added later joins the roles
at once), from `manage.py sync_roles` and from `manage.py demo`. It sets each group's
permissions to exactly the computed set: hand edits to these three groups are undone; make
another group for a custom role.
"""

import site
import sys
from pathlib import Path

from django.apps import apps as global_apps
from django.conf import settings

VIEWERS = "Viewers"
OPERATORS = "Operators"
ADMINISTRATORS = "Administrators"
ROLES = (VIEWERS, OPERATORS, ADMINISTRATORS)

# "app_label.model_name" (lower case) that Operators may add, change and delete. Names not
# (yet) installed are skipped, so the list may name models of apps merged later.
OPERATOR_MODELS = frozenset(
    {
        "statuspage.component",
        "statuspage.componentgroup",
        "statuspage.componentstatuschange",
        "statuspage.incident",
        "statuspage.incidentupdate",
        "statuspage.incidentcomponent",
        "statuspage.incidenttemplate",
        "statuspage.incidenttemplatecomponent",
        "statuspage.maintenance",
        "statuspage.maintenanceupdate",
        "statuspage.maintenanceschedule",
        "alerts.alert",
        "alerts.alertevent",
        "alerts.silence",
        "alerts.pagingdrill",
        "healthchecks.probe",
        "notifications.staffnotification",
    }
)


def vigil_app_labels() -> list[str]:
    """Vigil's own apps: those whose code lives in the project folder, so a new app joins the
    roles without a list to update. Installed packages are never ours, even when the virtualenv
    sits inside the project folder (the README's `.venv`)."""
    base = Path(settings.BASE_DIR).resolve()
    installed = {Path(p).resolve() for p in (sys.prefix, *site.getsitepackages())}
    labels = []
    for config in global_apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.is_relative_to(base) and not any(path.is_relative_to(root) for root in installed):
            labels.append(config.label)
    return labels


def role_permissions(Permission) -> dict[str, set[int]]:
    """Permission ids per role, from the rows that exist now."""
    rows = list(
        Permission.objects.values_list("id", "codename", "content_type__app_label", "content_type__model")
    )
    labels = set(vigil_app_labels())
    viewer = {pk for pk, codename, app, _ in rows if app in labels and codename.startswith("view_")}
    operator = viewer | {
        pk
        for pk, codename, app, model in rows
        if f"{app}.{model}" in OPERATOR_MODELS and codename.split("_", 1)[0] in ("add", "change", "delete")
    }
    administrator = {row[0] for row in rows}
    return {VIEWERS: viewer, OPERATORS: operator, ADMINISTRATORS: administrator}


def sync_roles(apps=global_apps, *, create_missing_permissions: bool = True) -> dict[str, int]:
    """Create the three groups and set their permissions; returns permission counts per role.
    `apps` is a migration's historical registry when called from one."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    if create_missing_permissions:
        # In a fresh database Django creates permissions only after all migrations ran
        # (post_migrate); create them now so the roles are complete at once.
        from django.contrib.auth.management import create_permissions

        for app_config in global_apps.get_app_configs():
            create_permissions(app_config, verbosity=0, apps=apps)
    counts = {}
    for name, ids in role_permissions(Permission).items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(ids)
        counts[name] = len(ids)
    return counts
