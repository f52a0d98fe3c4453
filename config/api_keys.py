"""API keys: creating, revoking, recognising them, and the scope a request needs.

A key reads `vgl_<8 characters>_<40 characters>`. Only its SHA-256 digest is stored, so a stolen
database holds no usable key; the first part (`vgl_` and 8 characters) is kept as the key's prefix
to recognise it. A key carries scopes; a request needs the scope that its path and method name
(SCOPE_RULES), and the key's user still needs the role's permission for it: a scope narrows what a
user may do, never widens it. Sessions and the older DRF tokens carry every scope.
"""

import re
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from config.models import ApiKey
from core.tokens import token_digest

KEY_PREFIX = "vgl_"
KEY_PATTERN = re.compile(r"^vgl_[A-Za-z0-9]{8}_[A-Za-z0-9]{40}$")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

READ = "read"
METRICS_WRITE = "metrics:write"
ALERTS_WRITE = "alerts:write"
STATUSPAGE_WRITE = "statuspage:write"
CHECKS_PING = "checks:ping"
CONFIG_WRITE = "config:write"
SCOPES = {
    READ: "Read everything the user may read (GET).",
    METRICS_WRITE: "Push metric points (the ingest API).",
    ALERTS_WRITE: "Raise, acknowledge and resolve alerts; rules and silences; the Alertmanager webhook.",
    STATUSPAGE_WRITE: "Components' statuses, incidents and maintenance on the status page.",
    CHECKS_PING: "Report heartbeat checks' runs through the API.",
    CONFIG_WRITE: "Change the rest of the configuration: probes, checks, on-call, operations config.",
}
# Where scopes apply: the staff API. Public endpoints (the status JSON, health) answer a request
# with any key as they answer one without.
# The probe agents' API (/api/agent/) takes only agent keys, each bound to its location
# (healthchecks/agents): those are the agent scope.
GOVERNED = re.compile(r"^/(api/(operations|status/admin)/|health/detailed$)")
# (path pattern, scope for writes); reads need READ. The first pattern that matches decides; a
# write no pattern names needs CONFIG_WRITE.
SCOPE_RULES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^/api/operations/metrics/?$"), METRICS_WRITE),
    (re.compile(r"^/api/operations/checks/[^/]+/ping/?$"), CHECKS_PING),
    (
        re.compile(
            r"^/api/operations/(alerts|alert-rules|silences|paging-drills|integrations/alertmanager)(/|$)"
        ),
        ALERTS_WRITE,
    ),
    (re.compile(r"^/api/status/admin/"), STATUSPAGE_WRITE),
]
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Writing last_used_at on every request would turn each read into a write; once a minute is
# precise enough to answer "is this key still in use, and from where".
LAST_USED_PRECISION = timedelta(minutes=1)


class KeyRefused(Exception):
    """The key is unknown, revoked or expired; the message says which, for the 401."""


def scope_needed(path: str, method: str) -> str | None:
    """The scope a request needs, or None where scopes do not apply."""
    if not GOVERNED.match(path):
        return None
    for pattern, scope in SCOPE_RULES:
        if pattern.match(path):
            return scope if method not in READ_METHODS else READ
    return READ if method in READ_METHODS else CONFIG_WRITE


def scopes_of(auth) -> frozenset | None:
    """The scopes a request's credential carries, or None for every scope (a session, whose
    request.auth is None, and a legacy DRF token)."""
    return frozenset(auth.scopes) if isinstance(auth, ApiKey) else None


def scope_refusal(key: ApiKey, path: str, method: str) -> str | None:
    """Why this key may not make this request, or None if its scopes allow it."""
    needed = scope_needed(path, method)
    if needed is None or needed in key.scopes:
        return None
    return f"This API key lacks the scope this request needs: {needed} (it has: {', '.join(key.scopes)})."


def validate_scopes(scopes) -> list[str]:
    if not isinstance(scopes, list | tuple) or not scopes:
        raise ValidationError({"scopes": "Give at least one scope."})
    unknown = sorted({str(s) for s in scopes} - set(SCOPES))
    if unknown:
        known = ", ".join(SCOPES)
        raise ValidationError({"scopes": f"Unknown scope(s): {', '.join(unknown)}. Known: {known}."})
    return sorted(set(scopes))


def _new_key() -> str:
    def part(n: int) -> str:
        return "".join(secrets.choice(_ALPHABET) for _ in range(n))

    return f"{KEY_PREFIX}{part(8)}_{part(40)}"


@transaction.atomic
def api_key_create(*, user, name: str, scopes, expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the key itself, which is shown once and never again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the key a name that says what uses it."})
    scopes = validate_scopes(scopes)
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    raw = _new_key()
    key = ApiKey(name=name[:100], user=user, prefix=raw[:12], key_digest=token_digest(raw), scopes=scopes)
    key.expires_at = expires_at
    key.save()
    return key, raw


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Revoke at once; the row stays, so the audit log and the list still show what it was."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_authenticate(raw: str, *, address: str | None, now: datetime | None = None) -> ApiKey:
    """The key row for a presented key, or KeyRefused saying why."""
    now = now or timezone.now()
    if not KEY_PATTERN.match(raw):
        raise KeyRefused("Invalid API key.")
    key = ApiKey.objects.select_related("user").filter(key_digest=token_digest(raw)).first()
    if key is None or not key.user.is_active:
        raise KeyRefused("Invalid API key.")
    if key.revoked_at is not None:
        raise KeyRefused(f"This API key ({key.prefix}…) was revoked.")
    if key.expires_at is not None and key.expires_at <= now:
        raise KeyRefused(f"This API key ({key.prefix}…) expired at {key.expires_at.isoformat()}.")
    stale = key.last_used_at is None or key.last_used_at <= now - LAST_USED_PRECISION
    address = address or key.last_used_from
    if stale or key.last_used_from != address:
        # A plain UPDATE: bookkeeping, not a change anyone made (the audit log does not see it).
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_from=address)
        key.last_used_at, key.last_used_from = now, address
    return key
