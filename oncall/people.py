"""The only writers of people's contact methods and notification rules, and the verification of
a contact method (a 6-digit code sent to it through the outbox, that must come back).

The admin and the API call these. A code is kept only as a keyed digest, works for
CODE_LIFETIME, and MAX_CODE_ATTEMPTS wrong guesses use it up; a new one can be asked for
after RESEND_AFTER. Until verified, a method is never paged.
"""

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.models import Channel
from notifications.services import Outgoing, Target, messages_enqueue_many
from oncall.models import (
    CODE_LIFETIME,
    MAX_CODE_ATTEMPTS,
    ContactMethod,
    NotificationRule,
    Urgency,
)

RESEND_AFTER = timedelta(seconds=60)


class ContactMethodError(ValueError):
    """A contact method or a verification the services refuse; `errors` maps fields to messages."""

    def __init__(self, errors: dict[str, list[str]] | str, *, status: int = 400) -> None:
        self.errors = {"non_field_errors": [errors]} if isinstance(errors, str) else errors
        self.status = status
        super().__init__("; ".join(" ".join(texts) for texts in self.errors.values()))


# Contact methods sent through a channel's credentials: the channel kind that sends them.
SENDING_CHANNEL_KIND = {
    ContactMethod.Kind.SMS: Channel.Kind.SMS,
    ContactMethod.Kind.VOICE: Channel.Kind.VOICE,
    ContactMethod.Kind.SLACK: Channel.Kind.SLACK_BOT,
}


def sending_channels() -> dict[str, int]:
    """The first enabled channel that sends each such contact method kind, by method kind: one
    query, for a caller that asks delivery_target about many methods (an escalation sweep pages
    hundreds of people)."""
    method_kind = {channel: method for method, channel in SENDING_CHANNEL_KIND.items()}
    first: dict[str, int] = {}
    rows = Channel.objects.filter(kind__in=method_kind, enabled=True).order_by("pk")
    for kind, pk in rows.values_list("kind", "pk"):
        first.setdefault(method_kind[kind], pk)
    return first


def delivery_target(
    kind: str, address: str, channels: dict[str, int] | None = None
) -> tuple[str, str, int | None] | None:
    """The outbox's (delivery kind, recipient, channel id) for a contact method, or None when
    this installation cannot send to it. A phone method goes out through the first enabled Twilio
    channel of its kind (its account, auth token and number: a person has none of their own), and
    a Slack member's direct message through the first enabled Slack bot channel (its token);
    without one, there is none. `channels` is sending_channels(), read once by a caller with many
    methods; without it, it is read here."""
    if kind == ContactMethod.Kind.EMAIL:
        return "email", address, None
    if kind == ContactMethod.Kind.PUSH:
        return "ntfy", f"{settings.NTFY_URL}/{address}", None
    if kind not in SENDING_CHANNEL_KIND:
        return None
    channel_id = (sending_channels() if channels is None else channels).get(kind)
    return (SENDING_CHANNEL_KIND[kind], address, channel_id) if channel_id is not None else None


NO_SENDER = (
    "Vigil cannot send to a {kind} (for a phone: no enabled Twilio channel of that kind to send "
    "through; for Slack: no enabled Slack bot channel), so this method cannot be verified and is "
    "never paged."
)


def _errors(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {name: list(texts) for name, texts in error}
    return {"non_field_errors": [str(m) for m in error]}


@transaction.atomic
def contact_method_save(*, method: ContactMethod) -> ContactMethod:
    """Create or change a contact method. A changed kind or address must be verified again."""
    method.address = method.address.strip()
    try:
        method.full_clean(exclude=["user"])
    except ValidationError as error:
        raise ContactMethodError(_errors(error)) from None
    if method.pk:
        before = ContactMethod.objects.filter(pk=method.pk).values("kind", "address").first()
        if before != {"kind": method.kind, "address": method.address}:
            _reset_verification(method)
    try:
        with transaction.atomic():
            method.save()
    except IntegrityError:
        raise ContactMethodError({"address": ["This person already has this contact method."]}) from None
    return method


def _reset_verification(method: ContactMethod) -> None:
    method.verified_at = None
    method.code_digest = ""
    method.code_sent_at = method.code_expires_at = None
    method.code_attempts = 0


def contact_method_delete(*, method: ContactMethod) -> None:
    method.delete()  # its notification rules go with it


def _digest(method: ContactMethod, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"contact-method:{method.pk}:{code}".encode(), hashlib.sha256).hexdigest()


def contact_method_send_code(*, method: ContactMethod, now: datetime | None = None) -> ContactMethod:
    """Send a new 6-digit code to the method (the old one stops working)."""
    now = now or timezone.now()
    target = delivery_target(method.kind, method.address)
    if target is None:
        raise ContactMethodError({"kind": [NO_SENDER.format(kind=method.get_kind_display())]}, status=409)
    with transaction.atomic():
        method = ContactMethod.objects.select_for_update().get(pk=method.pk)
        if method.is_verified:
            raise ContactMethodError("This contact method is already verified.", status=409)
        if method.code_sent_at and now - method.code_sent_at < RESEND_AFTER:
            wait = int((RESEND_AFTER - (now - method.code_sent_at)).total_seconds()) + 1
            raise ContactMethodError(f"A code was sent just now; ask again in {wait} s.", status=429)
        code = f"{secrets.randbelow(10**6):06d}"
        method.code_digest = _digest(method, code)
        method.code_sent_at, method.code_expires_at = now, now + CODE_LIFETIME
        method.code_attempts = 0
        method.save(update_fields=["code_digest", "code_sent_at", "code_expires_at", "code_attempts"])
        kind, recipient, channel_id = target
        key = f"verify-{method.pk}-{now:%Y%m%d%H%M%S%f}"
        messages_enqueue_many(
            [
                Outgoing(
                    kind="oncall.verify",
                    # In the subject too: an SMS or a call says only the subject.
                    subject=f"{code} is your {settings.SITE_NAME} verification code",
                    severity="high",
                    dedup_key=key,
                    template="contact_verify",
                    context={
                        "code": code,
                        "body": f"Your verification code is {code}. It works for "
                        f"{int(CODE_LIFETIME.total_seconds() // 60)} minutes.",
                    },
                    targets=(
                        Target(
                            kind=kind,
                            recipient=recipient,
                            key=key,
                            person_id=method.user_id,
                            channel_id=channel_id,
                        ),
                    ),
                )
            ]
        )
    return method


def contact_method_check_code(
    *, method: ContactMethod, code: str, now: datetime | None = None
) -> ContactMethod:
    """Verify the method if `code` is its current code. Refused: no code sent, an expired code,
    a code that had MAX_CODE_ATTEMPTS wrong guesses, a wrong code (which counts as one)."""
    now = now or timezone.now()
    # The refusal is raised after the block commits: a wrong guess must stay counted.
    with transaction.atomic():
        method = ContactMethod.objects.select_for_update().get(pk=method.pk)
        refusal = _refusal(method, str(code).strip(), now)
        if refusal is None and not method.is_verified:
            method.verified_at = now
            method.code_digest = ""
            method.code_expires_at = None
            method.code_attempts = 0
            method.save(update_fields=["verified_at", "code_digest", "code_expires_at", "code_attempts"])
    if refusal is not None:
        raise refusal
    return method


def _refusal(method: ContactMethod, code: str, now: datetime) -> ContactMethodError | None:
    if method.is_verified:
        return None
    if not method.code_digest:
        return ContactMethodError({"code": ["No code was sent; ask for one first."]}, status=409)
    if method.code_expires_at is None or now >= method.code_expires_at:
        return ContactMethodError({"code": ["This code has expired; ask for a new one."]})
    if method.code_attempts >= MAX_CODE_ATTEMPTS:
        return ContactMethodError({"code": ["Too many wrong codes; ask for a new one."]}, status=429)
    if hmac.compare_digest(_digest(method, code), method.code_digest):
        return None
    method.code_attempts += 1
    method.save(update_fields=["code_attempts"])
    left = MAX_CODE_ATTEMPTS - method.code_attempts
    return ContactMethodError(
        {"code": [f"Wrong code; {left} tries left." if left else "Wrong code; no tries left."]}
    )


@dataclass(frozen=True)
class RuleSpec:
    urgency: str
    contact_method: ContactMethod
    delay_minutes: int = 0


@transaction.atomic
def notification_rules_set(*, user: AbstractBaseUser, rules: Sequence[RuleSpec]) -> list[NotificationRule]:
    """Replace all of a person's notification rules."""
    rows = [
        NotificationRule(
            user=user, urgency=r.urgency, contact_method=r.contact_method, delay_minutes=r.delay_minutes
        )
        for r in rules
    ]
    problems: list[str] = []
    for index, row in enumerate(rows):
        try:
            row.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            problems += [f"[{index}].{name}: {' '.join(texts)}" for name, texts in _errors(error).items()]
    seen = [(r.urgency, r.contact_method.pk, r.delay_minutes) for r in rules]
    if len(seen) != len(set(seen)):
        problems.append("Each rule step appears once (urgency, contact method, delay).")
    if problems:
        raise ContactMethodError({"rules": problems})
    NotificationRule.objects.filter(user=user).delete()
    return NotificationRule.objects.bulk_create(rows)


URGENCIES = tuple(Urgency.values)


@transaction.atomic
def notification_rule_save(*, rule: NotificationRule) -> NotificationRule:
    """Create or change one rule step (the console edits them one at a time)."""
    try:
        rule.full_clean()
    except ValidationError as error:
        raise ContactMethodError(_errors(error)) from None
    rule.save()
    return rule


def notification_rule_delete(*, rule: NotificationRule) -> None:
    rule.delete()
