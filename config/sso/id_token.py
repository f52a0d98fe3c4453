"""Checking an ID token (OpenID Connect Core 3.1.3.7): an RS256 signature by one of the
provider's keys, then iss, aud (and azp when there are several audiences), exp, iat and the
nonce this sign-in sent. PyJWT does the signature and the registered claims; the key is picked
here by its kid, and a kid the cached key set does not know reads the set once more (the
provider rotated its keys), never more than once per token."""

import hmac

import jwt
from django.conf import settings

from config.sso.provider import signing_keys

ALGORITHM = "RS256"
# Clocks differ a little between Vigil and the provider: an exp this recent still counts.
LEEWAY_SECONDS = 60


class TokenRefused(Exception):
    """The ID token must not sign anyone in (a 403 to the user); the message says why."""


def _key(kid: object, document: dict):
    try:
        keys = jwt.PyJWKSet.from_dict(document).keys
    except (jwt.PyJWKSetError, jwt.InvalidKeyError):
        return None
    usable = [k for k in keys if k.public_key_use in (None, "sig") and k.key_type == "RSA"]
    if kid is None:
        # A token may omit its kid when the provider has one signing key only.
        return usable[0] if len(usable) == 1 else None
    return next((k for k in usable if k.key_id == kid), None)


def id_token_claims(raw: str, *, nonce: str) -> dict:
    """The claims of a valid ID token for this client and this sign-in; TokenRefused otherwise."""
    try:
        header = jwt.get_unverified_header(raw)
    except jwt.InvalidTokenError:
        raise TokenRefused("The provider's ID token is not a signed token.") from None
    if header.get("alg") != ALGORITHM:
        raise TokenRefused(f"The provider's ID token is not signed with {ALGORITHM}.")
    kid = header.get("kid")
    key = _key(kid, signing_keys())
    if key is None:
        key = _key(kid, signing_keys(refresh=True))
    if key is None:
        raise TokenRefused("The provider's ID token is signed with a key the provider does not publish.")
    try:
        claims = jwt.decode(
            raw,
            key.key,
            algorithms=[ALGORITHM],
            audience=settings.OIDC_CLIENT_ID,
            issuer=settings.OIDC_ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.InvalidSignatureError:
        raise TokenRefused("The provider's ID token has a wrong signature.") from None
    except jwt.ExpiredSignatureError:
        raise TokenRefused("The provider's ID token has expired.") from None
    except jwt.InvalidAudienceError:
        raise TokenRefused("The provider's ID token was issued to another client.") from None
    except jwt.InvalidIssuerError:
        raise TokenRefused("The provider's ID token was issued by another issuer.") from None
    except jwt.InvalidTokenError as exc:
        raise TokenRefused(f"The provider's ID token is not valid ({type(exc).__name__}).") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != settings.OIDC_CLIENT_ID:
        raise TokenRefused("The provider's ID token was issued to another client.")
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise TokenRefused("The provider's ID token does not belong to this sign-in (nonce).")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise TokenRefused("The provider's ID token names no subject.")
    return claims
