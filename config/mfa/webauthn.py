"""Security keys and passkeys: WebAuthn's registration and authentication ceremonies (py_webauthn
checks the signatures, the challenge, the RP id and the origin).

The challenge lives in the session, server-side: one at a time, bound to the user it was made
for and to its purpose, valid for CHALLENGE_SECONDS and taken out of the session by the first
answer, right or wrong, so an answer cannot be replayed."""

import json
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from config.mfa import services
from config.mfa.services import TwoFactorError
from config.models import WebAuthnCredential

CHALLENGE = "vigil_webauthn_challenge"
# What py_webauthn raises on an answer it cannot verify, and what a malformed one can make its
# parsing raise: each is the client's error (400), never a 500.
MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError, IndexError)
CHALLENGE_SECONDS = 300
REGISTER = "register"
AUTHENTICATE = "authenticate"


def rp_id(request: HttpRequest) -> str:
    """WEBAUTHN_RP_ID, or in development the host the browser asked for (without its port)."""
    return settings.WEBAUTHN_RP_ID or (urlsplit(f"//{request.get_host()}").hostname or "")


def origins(request: HttpRequest) -> list[str]:
    return settings.WEBAUTHN_ORIGINS or [f"{request.scheme}://{request.get_host()}"]


def _user_handle(user) -> bytes:
    # Stable per user (a passkey made again replaces the old one on the authenticator) and
    # no personal data: the authenticator keeps it.
    return salted_hmac("vigil.webauthn.user-handle", str(user.pk)).digest()[:32]


def _descriptors(user) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=base64url_to_bytes(c.credential_id))
        for c in WebAuthnCredential.objects.filter(user=user)
    ]


def _keep(request: HttpRequest, purpose: str, user, challenge: bytes) -> None:
    request.session[CHALLENGE] = {
        "purpose": purpose,
        "user": user.pk,
        "challenge": bytes_to_base64url(challenge),
        "expires": time.time() + CHALLENGE_SECONDS,
    }


def _take(request: HttpRequest, purpose: str, user) -> bytes:
    kept = request.session.pop(CHALLENGE, None)
    if (
        not isinstance(kept, dict)
        or kept.get("purpose") != purpose
        or kept.get("user") != user.pk
        or kept.get("expires", 0) < time.time()
    ):
        raise TwoFactorError("This security key request has expired or was used; start again.")
    return base64url_to_bytes(kept["challenge"])


def registration_options(request: HttpRequest, user) -> str:
    options = generate_registration_options(
        rp_id=rp_id(request),
        rp_name=settings.SITE_NAME,
        user_id=_user_handle(user),
        user_name=user.get_username(),
        exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    _keep(request, REGISTER, user, options.challenge)
    return options_to_json(options)


def registration_verify(request: HttpRequest, user, *, name: str, credential: dict) -> WebAuthnCredential:
    challenge = _take(request, REGISTER, user)
    try:
        verified = verify_registration_response(
            credential=json.dumps(credential),
            expected_challenge=challenge,
            expected_rp_id=rp_id(request),
            expected_origin=origins(request),
        )
    except MALFORMED as exc:
        raise TwoFactorError(f"The security key's answer could not be verified ({exc}).") from None
    try:
        with transaction.atomic():
            before = services.device_labels(user)
            key = WebAuthnCredential.objects.create(
                user=user,
                name=" ".join(name.split())[:64] or "Security key",
                credential_id=bytes_to_base64url(verified.credential_id),
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
            )
            services.devices_audited(user, before)
    except IntegrityError:  # the unique credential id: someone registered this key already
        raise TwoFactorError("This security key is registered already.") from None
    return key


def authentication_options(request: HttpRequest, user) -> str:
    options = generate_authentication_options(
        rp_id=rp_id(request),
        allow_credentials=_descriptors(user),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _keep(request, AUTHENTICATE, user, options.challenge)
    return options_to_json(options)


def authentication_verify(request: HttpRequest, user, *, credential: dict) -> WebAuthnCredential:
    """The user's key that answered the challenge; TwoFactorError when none did."""
    challenge = _take(request, AUTHENTICATE, user)
    credential_id = credential.get("id") if isinstance(credential, dict) else None
    if not isinstance(credential_id, str):
        raise TwoFactorError("The answer names no security key.")
    with transaction.atomic():
        keys = WebAuthnCredential.objects.select_for_update().filter(user=user, credential_id=credential_id)
        key = keys.first()
        if key is None:
            raise TwoFactorError("This security key is not registered for you.")
        try:
            verified = verify_authentication_response(
                credential=json.dumps(credential),
                expected_challenge=challenge,
                expected_rp_id=rp_id(request),
                expected_origin=origins(request),
                credential_public_key=bytes(key.public_key),
                # A counter that goes backwards means a cloned key: py_webauthn refuses it.
                credential_current_sign_count=key.sign_count,
            )
        except MALFORMED as exc:
            raise TwoFactorError(f"The security key's answer could not be verified ({exc}).") from None
        key.sign_count = verified.new_sign_count
        key.last_used_at = timezone.now()
        key.save(update_fields=["sign_count", "last_used_at"])
    return key
