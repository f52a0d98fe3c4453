"""One permission rule for the whole API, the same Django permissions the admin checks.

ModelPermissions (the REST_FRAMEWORK default) requires a staff account and then:
- a view with a queryset: the model permission for the method — view_<model> to read
  (Django's own map lets any staff read), add_ to POST, change_ to PUT/PATCH, delete_ to
  DELETE; a POST to a detail action (/alerts/<id>/acknowledge) changes a row, so change_;
- a view without a queryset: the permissions it names in `required_permissions`
  ({method: [perm, ...]}) or that EXTRA_PERMISSIONS names for its URL; a read needs staff
  only; a write that names nothing is refused to all but superusers (deny by default).
Public endpoints say AllowAny themselves.
"""

from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissions

# URL name -> {method: [permission, ...]} for views without a queryset in other apps, kept
# here so those apps need not import the console.
EXTRA_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    "monitoring:ingest": {"POST": ["monitoring.add_metric"]},
    "alertmanager-webhook": {"POST": ["alerts.add_alert", "alerts.change_alert"]},
}


class ModelPermissions(DjangoModelPermissions):
    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        if getattr(view, "_ignore_model_permissions", False):
            return True
        declared = self._declared(request, view)
        if declared is not None:
            return user.has_perms(declared.get(request.method, []))
        if getattr(view, "queryset", None) is None and not _has_own_get_queryset(view):
            return request.method in SAFE_METHODS or user.is_superuser
        return super().has_permission(request, view)

    def _declared(self, request, view) -> dict | None:
        declared = getattr(view, "required_permissions", None)
        if declared is not None:
            return declared
        match = getattr(request, "resolver_match", None)
        if match is not None and match.view_name in EXTRA_PERMISSIONS:
            return EXTRA_PERMISSIONS[match.view_name]
        if request.method == "POST" and getattr(view, "detail", False):
            # A viewset action on one row (acknowledge, resolve, reopen) changes that row.
            model = self._queryset(view).model
            return {"POST": [f"{model._meta.app_label}.change_{model._meta.model_name}"]}
        return None


def _has_own_get_queryset(view) -> bool:
    from rest_framework.generics import GenericAPIView

    method = getattr(type(view), "get_queryset", None)
    return method is not None and method is not GenericAPIView.get_queryset
