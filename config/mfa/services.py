"""Two-factor devices and every write to them: TOTP apps (django-otp's TOTPDevice), recovery
codes (its StaticDevice, whose tokens hold digests of the codes here) and security keys
(config.models.WebAuthnCredential, written by config/mfa/webauthn.py)."""

import base64
import hashlib
import secrets
from collections.abc import Iterable

import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, Q
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from config import audit
from config.models import WebAuthnCredential
from config.roles import ADMINISTRATORS

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"
# 16 base32 characters: 80 random bits, so the digest in the database (unsalted, so that
# django-otp can look a code up by it) is no shortcut to a code.
RECOVERY_CODE_LENGTH = 16


class TwoFactorError(Exception):
    """A request about devices that cannot be done; the message says why, for the user."""


def has_second_factor(user) -> bool:
    """A confirmed TOTP device or a security key: the user must pass a second step. Recovery
    codes alone do not count (they exist only beside one of these)."""
    # One query: the middleware asks this on every request of a password-only session.
    totp = TOTPDevice.objects.filter(user=user.pk, confirmed=True)
    keys = WebAuthnCredential.objects.filter(user=user.pk)
    return get_user_model().objects.filter(Q(Exists(totp)) | Q(Exists(keys)), pk=user.pk).exists()


def enrolment_required(user) -> bool:
    """Whether MFA_REQUIRED_ROLES names one of the user's roles. A superuser holds every
    permission, so counts as an Administrator here."""
    required = set(settings.MFA_REQUIRED_ROLES)
    if not required or not user.is_authenticated:
        return False
    if user.is_superuser and ADMINISTRATORS in required:
        return True
    return user.groups.filter(name__in=required).exists()


def device_labels(user) -> list[str]:
    """What the audit log shows of a user's devices: kinds and names, never a secret."""
    labels = [f"TOTP: {d.name}" for d in TOTPDevice.objects.filter(user=user, confirmed=True)]
    labels += [f"security key: {c.name}" for c in WebAuthnCredential.objects.filter(user=user)]
    left = recovery_codes_left(user)
    if left:
        labels.append(f"recovery codes: {left} left")
    return labels


def devices_audited(user, before: list[str]) -> None:
    after = device_labels(user)
    if before != after:
        audit.record_change(user, before={"two_factor": before}, after={"two_factor": after})


# --- TOTP ------------------------------------------------------------------------------------


def totp_begin(*, user, name: str) -> TOTPDevice:
    """An unconfirmed device with a new secret; it counts only once a code from it is given.
    An earlier unconfirmed one (an enrolment given up halfway) goes."""
    name = " ".join(name.split())[:64] or "Authenticator app"
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=name, confirmed=False)


def totp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URI as an inline SVG QR code (drawn here: no request leaves the page)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2, light="#fff")


def totp_secret(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def totp_confirm(*, device: TOTPDevice, code: str) -> bool:
    """Confirms the device when `code` is its current one. verify_token records the code's
    time step, so the same code cannot sign in afterwards."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        before = device_labels(device.user)
        if device.confirmed or not device.verify_token(_digits(code)):
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        devices_audited(device.user, before)
    return True


def _digits(code: str) -> str:
    return "".join(code.split())


def totp_verify(*, user, code: str) -> bool:
    """Whether `code` is the current code of one of the user's TOTP devices. The rows are locked
    so two requests with one code cannot both pass; django-otp's last-used time step refuses
    the code from then on."""
    code = _digits(code)
    if not code.isdigit():
        return False
    with transaction.atomic():
        devices = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk")
        return any(device.verify_token(code) for device in devices)


# --- Recovery codes --------------------------------------------------------------------------


def _recovery_normalised(code: str) -> str:
    return "".join(ch for ch in code.casefold() if ch.isalnum())


def recovery_code_digest(code: str) -> str:
    """What StaticToken.token holds for a code: 16 characters (its column's size) of SHA-256."""
    digest = hashlib.sha256(_recovery_normalised(code).encode()).digest()[:10]
    return base64.b32encode(digest).decode().lower()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user).count()


def recovery_codes_generate(*, user) -> list[str]:
    """Ten new codes, replacing any earlier ones. Only the digests are kept: the caller shows
    the codes once."""
    if not has_second_factor(user):
        raise TwoFactorError("Add an authenticator app or a security key first; recovery codes back one up.")
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    codes = [
        "".join(secrets.choice(alphabet) for _ in range(RECOVERY_CODE_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    with transaction.atomic():
        before = device_labels(user)
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
        StaticToken.objects.bulk_create(
            StaticToken(device=device, token=recovery_code_digest(code)) for code in codes
        )
        devices_audited(user, before)
    return ["-".join(code[i : i + 4] for i in range(0, len(code), 4)) for code in codes]


def recovery_code_use(*, user, code: str) -> bool:
    """Whether `code` is one of the user's unused codes; a code that passes is deleted."""
    if len(_recovery_normalised(code)) != RECOVERY_CODE_LENGTH:
        return False
    digest = recovery_code_digest(code)
    with transaction.atomic():
        devices = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True)
        return any(device.verify_token(digest) for device in devices)


# --- Removing devices ------------------------------------------------------------------------

DEVICE_KINDS = ("totp", "webauthn", "recovery")


def _device(user, kind: str, pk: int):
    model = {"totp": TOTPDevice, "webauthn": WebAuthnCredential, "recovery": StaticDevice}.get(kind)
    if model is None:
        raise TwoFactorError("No such device.")
    device = model.objects.filter(user=user, pk=pk).first()
    if device is None:
        raise TwoFactorError("No such device.")
    return device


def device_remove(*, user, kind: str, pk: int) -> None:
    """Removes one of the user's devices. Without a TOTP device or a key left, the recovery
    codes go too: they only back those up."""
    with transaction.atomic():
        before = device_labels(user)
        _device(user, kind, pk).delete()
        if not has_second_factor(user):
            _delete_all(user, only_recovery=True)
        devices_audited(user, before)


def _delete_all(user, *, only_recovery: bool = False) -> None:
    StaticDevice.objects.filter(user=user).delete()
    if not only_recovery:
        TOTPDevice.objects.filter(user=user).delete()
        WebAuthnCredential.objects.filter(user=user).delete()


def devices_reset(*, users: Iterable) -> int:
    """An Administrator's reset for users who lost their devices: every device goes, and the
    user signs in with the password alone (then enrols again if their role requires it)."""
    reset = 0
    for user in users:
        with transaction.atomic():
            before = device_labels(user)
            _delete_all(user)
            if before:
                devices_audited(user, before)
                reset += 1
    return reset


def confirmation_valid(*, user, answer: str) -> bool:
    """A removal asks again who is there: the user's password or a current TOTP code."""
    answer = answer.strip()
    if not answer:
        return False
    return user.check_password(answer) or totp_verify(user=user, code=answer)
