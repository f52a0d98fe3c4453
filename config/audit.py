"""The audit log: every staff change (admin or API) to the audited models, with before/after.

How: AuditMiddleware keeps the current request in a context variable; save/delete hooks on an
explicit list of models write an AuditEntry when that request's user is staff. The user is read
at save time, not in the middleware, because DRF authenticates tokens inside the view (and then
sets request.user on the Django request too).

Why signals here, when STYLE.md says no signals for core flow: the audit log is observation,
not flow. Nothing depends on it having run, and hooks are the one place that sees every save
made by the admin, the API and the services they call, without asking each of them (and every
future one) to remember a call. Writes made with QuerySet.update() are not seen; the services
that matter save rows one by one, and status changes also have their own history rows.
"""

import contextvars
import datetime
import decimal
import hashlib
import uuid
from collections.abc import Callable

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.http import HttpRequest

from config.models import AuditEntry
from core import outbound

# "app_label.ModelName" of what is audited; a model not installed (an app merged later) is
# skipped, so the list may name it already.
AUDITED_MODELS = (
    "statuspage.Component",
    "statuspage.ComponentGroup",
    "statuspage.Incident",
    "statuspage.IncidentUpdate",
    "statuspage.Maintenance",
    "statuspage.MaintenanceUpdate",
    "subscribers.Subscriber",
    "alerts.Alert",
    "alerts.AlertRule",
    "oncall.EscalationPolicy",
    "oncall.PolicyStep",
    "oncall.ContactMethod",
    "oncall.NotificationRule",
    "alerts.Silence",
    "notifications.Channel",
    "healthchecks.Probe",
    "config.OperationsConfig",
    "config.ApiKey",
    "auth.User",
    "auth.Group",
)
# Never copied into the log: secrets stay where they are. Any field with one of these names or
# name endings (a subscriber's manage_token, its confirm_token_digest; an SMS gateway's
# request_headers carry its API key)...
REDACTED_FIELDS = frozenset({"password", "secret", "token", "signing_secret", "key", "request_headers"})
REDACTED_SUFFIXES = ("_token", "_secret", "_password", "_digest")
# ...and URLs that are secrets themselves (a Slack webhook's path is its credential), shown as
# scheme and host only.
REDACTED_URLS = frozenset({"notifications.channel.url"})
REDACTED = "(redacted)"
# Bookkeeping, not a change anyone made (a login sets last_login on the user row).
IGNORED_FIELDS = frozenset({"last_login"})

_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("audit_request", default=None)


class AuditMiddleware:
    def __init__(self, get_response: Callable):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        reset = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(reset)


def _staff_request() -> HttpRequest | None:
    request = _request.get()
    if request is None:
        return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return None
    return request


def _plain(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return "(binary)"
    return value


def snapshot(instance: Model) -> dict:
    """The row's own columns (foreign keys as ids), JSON-ready, secrets redacted."""
    values = {}
    for field in instance._meta.concrete_fields:
        value = getattr(instance, field.attname)
        secret = field.name in REDACTED_FIELDS or field.name.endswith(REDACTED_SUFFIXES)
        # A digest, not the value: enough to show that it changed, nothing to reuse.
        digest = hashlib.sha256(str(value).encode()).hexdigest()[:10]
        if secret and value:
            values[field.attname] = f"{REDACTED} {digest}"
        elif f"{instance._meta.label_lower}.{field.name}" in REDACTED_URLS and value:
            values[field.attname] = f"{outbound.redact_url(str(value))} {REDACTED} {digest}"
        else:
            values[field.attname] = _plain(value)
    return values


def _write(instance: Model, action: str, before: dict | None, after: dict | None) -> None:
    request = _staff_request()
    if request is None:
        return
    changes = {}
    if before is not None and after is not None:
        changes = {
            k: [before.get(k), v] for k, v in after.items() if before.get(k) != v and k not in IGNORED_FIELDS
        }
        if not changes:
            return  # a save that changed nothing is not a change
    elif after is not None:
        changes = {k: [None, v] for k, v in after.items() if v not in (None, "")}
    entry_write(
        actor=request.user,
        request=request,
        instance=instance,
        action=action,
        before=before,
        after=after,
        changes=changes,
    )


def entry_write(
    *,
    actor,
    request: HttpRequest,
    instance: Model,
    action: str,
    before: dict | None,
    after: dict | None,
    changes: dict,
) -> AuditEntry:
    """One entry, for the hooks above and for the writes they cannot see made by a staff request
    (a single sign-on creates the user before anyone is logged in)."""
    path = request.path
    return AuditEntry.objects.create(
        actor=actor,
        actor_name=actor.get_username(),
        via=(
            AuditEntry.Via.ADMIN
            if path.startswith("/admin/")
            else AuditEntry.Via.API
            if path.startswith("/api/")
            else AuditEntry.Via.OTHER
        ),
        method=request.method or "",
        path=path[:300],
        action=action,
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=False),
        object_id=str(instance.pk),
        object_repr=str(instance)[:300],
        before=before,
        after=after,
        changes=changes,
    )


def _before_save(sender, instance: Model, raw: bool = False, **kwargs) -> None:
    if raw or _staff_request() is None:
        return
    previous = None
    if instance.pk is not None and not instance._state.adding:
        old = sender._base_manager.filter(pk=instance.pk).first()
        previous = snapshot(old) if old is not None else None
    instance._audit_before = previous


def _after_save(sender, instance: Model, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    before = getattr(instance, "_audit_before", None)
    instance.__dict__.pop("_audit_before", None)
    if created or before is None:
        _write(instance, "create", None, snapshot(instance))
    else:
        _write(instance, "update", before, snapshot(instance))


def _after_delete(sender, instance: Model, **kwargs) -> None:
    _write(instance, "delete", snapshot(instance), None)


def _m2m_field(instance: Model, through) -> str | None:
    for field in instance._meta.many_to_many:
        if field.remote_field.through is through:
            return field.name
    return None


def _m2m_changed(sender, instance: Model, action: str, reverse: bool, **kwargs) -> None:
    """A many-to-many change (the components of a maintenance, the channels of a rule) as one
    entry per add/remove/clear, with the related ids before and after."""
    if reverse or _staff_request() is None:
        return
    name = _m2m_field(instance, sender)
    if name is None:
        return
    if action.startswith("pre_"):
        instance.__dict__.setdefault("_audit_m2m", {})[name] = sorted(
            getattr(instance, name).values_list("pk", flat=True)
        )
        return
    before = instance.__dict__.get("_audit_m2m", {}).pop(name, None)
    after = sorted(getattr(instance, name).values_list("pk", flat=True))
    if before is None or before == after:
        return
    _write(instance, "update", {name: before}, {name: after})


def audited_models() -> list[type[Model]]:
    found = []
    for label in AUDITED_MODELS:
        try:
            found.append(apps.get_model(label))
        except LookupError:
            continue
    return found


def connect_audit_hooks() -> None:
    for model in audited_models():
        uid = f"vigil-audit-{model._meta.label}"
        pre_save.connect(_before_save, sender=model, dispatch_uid=uid)
        post_save.connect(_after_save, sender=model, dispatch_uid=uid)
        post_delete.connect(_after_delete, sender=model, dispatch_uid=uid)
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(
                _m2m_changed, sender=field.remote_field.through, dispatch_uid=f"{uid}-{field.name}"
            )


def audit_record(*, instance: Model, action: str, actor=None, via: str = AuditEntry.Via.OTHER) -> AuditEntry:
    """An entry written on purpose rather than by a save hook: for a change made outside a
    staff request (a management command) or one that stands for many rows (a config apply).
    The request, when there is one, gives the method and path."""
    request = _request.get()
    after = snapshot(instance)
    return AuditEntry.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "manage.py",
        via=via,
        method=(request.method or "") if request is not None else "",
        path=request.path[:300] if request is not None else "",
        action=action,
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=False),
        object_id=str(instance.pk),
        object_repr=str(instance)[:300],
        before=None,
        after=after,
        changes={k: [None, v] for k, v in after.items() if v not in (None, "", [], {})},
    )


def record_change(instance: Model, *, before: dict, after: dict) -> None:
    """An entry for a change the save hooks do not see (a user's two-factor devices, kept in
    django-otp's tables): written like theirs, for the request's staff user."""
    _write(instance, "update", before, after)
