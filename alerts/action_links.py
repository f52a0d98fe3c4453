"""Acknowledge, resolve or silence an alert from the notification itself.

An alert's message lists its actions (name, label, path and claims) in the template context;
the notifications renderer signs each one per recipient (core.signed_links), so an e-mail's
links are bound to the address they were sent to and a Slack button carries the same token.

A link is bound to the alert, the action and the alert's escalation_token when it was sent.
Every escalation and lifecycle change bumps that token, so a link works once, and a link from
before the last change (an older mail, a replay) does nothing: the page says it is out of date.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from alerts.action_menu import ACTIONS
from alerts.models import Alert
from alerts.services import AlertTransitionError, alert_acknowledge, alert_resolve, alert_silence
from core import signed_links

SILENCE_MINUTES = 60


class ActionLinkError(Exception):
    """A link that must not act, with the HTTP status its page answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ActionClaims:
    alert_id: int
    action: str
    token: int
    recipient: str


def read_claims(token: str) -> ActionClaims:
    """The claims of a signed action token; ActionLinkError if it is not one, or too old."""
    max_age = settings.ALERT_ACTION_LINK_MAX_AGE_HOURS * 3600
    try:
        claims = signed_links.read(token, max_age_seconds=max_age)
    except signed_links.LinkExpired:
        raise ActionLinkError(410, "This link has expired. Open the alert in the console instead.") from None
    except signed_links.LinkInvalid:
        raise ActionLinkError(400, "This link is not valid: it was changed or cut short.") from None
    alert_id, action, version = claims.get("alert"), claims.get("action"), claims.get("token")
    recipient = claims.get(signed_links.RECIPIENT, "")
    if (
        not isinstance(alert_id, int)
        or isinstance(alert_id, bool)
        or not isinstance(version, int)
        or isinstance(version, bool)
        or action not in ACTIONS
        or not isinstance(recipient, str)
    ):
        raise ActionLinkError(400, "This link is not valid: it does not name an alert action.")
    return ActionClaims(alert_id, action, version, recipient)


def check_link(token: str, *, alert_id: int, action: str) -> tuple[ActionClaims, Alert]:
    """The claims and alert of a link opened at /alerts/act/<alert_id>/<action>/<token>, or
    ActionLinkError. Read without a lock: the page only shows; alert_action_apply re-checks."""
    claims = read_claims(token)
    if claims.alert_id != alert_id or claims.action != action:
        raise ActionLinkError(403, "This link was made for another alert or another action.")
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None:
        raise ActionLinkError(404, "This alert no longer exists.")
    _check_current(alert, claims)
    return claims, alert


def _check_current(alert: Alert, claims: ActionClaims) -> None:
    if alert.escalation_token != claims.token:
        raise ActionLinkError(
            410,
            f"This link is out of date: the alert has changed since it was sent (it is now "
            f"{alert.get_status_display().lower()}), or the link was already used.",
        )


def alert_action_apply(*, claims: ActionClaims, user=None, actor_name: str = "") -> Alert:
    """Do what the link says, if the alert is still as it was when the link was sent. The
    alert is locked while checking, so two presses of one link (two tabs, a Slack retry)
    act once: the second sees the bumped token."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(pk=claims.alert_id).first()
        if alert is None:
            raise ActionLinkError(404, "This alert no longer exists.")
        _check_current(alert, claims)
        try:
            if claims.action == "acknowledge":
                return alert_acknowledge(alert=alert, user=user, actor_name=actor_name)
            if claims.action == "resolve":
                return alert_resolve(alert=alert, user=user, actor_name=actor_name)
            alert_silence(alert=alert, minutes=SILENCE_MINUTES, user=user, actor_name=actor_name)
        except AlertTransitionError as exc:
            raise ActionLinkError(409, str(exc)) from None
        alert.refresh_from_db()
        return alert
