"""Signed action links: a small set of claims (what to do, to which row, in which state, for
whom) signed with SECRET_KEY, readable by anyone who holds the link but not changeable.

Unlike core.tokens (random secrets stored in a row), nothing is stored: the link carries its
own claims, and the row's current state decides whether it still works (the producer puts a
version of the row in the claims, so a link made before a change no longer matches). The salt
keeps these signatures from being valid anywhere else Django signs something with the same key.
"""

from django.core import signing

SALT = "vigil.signed-action-link"
# The claim a link is bound to its recipient by (an e-mail address), when the sender knows one.
RECIPIENT = "recipient"


class LinkInvalid(Exception):
    """Not a link Vigil signed, or one that was changed or cut short."""


class LinkExpired(Exception):
    """Signed by Vigil, but older than the maximum age."""


def sign(claims: dict) -> str:
    return signing.dumps(claims, salt=SALT, compress=True)


def read(token: str, *, max_age_seconds: float) -> dict:
    if not isinstance(token, str) or not token or len(token) > 2000:
        raise LinkInvalid("not a signed link")
    try:
        claims = signing.loads(token, salt=SALT, max_age=max_age_seconds)
    except signing.SignatureExpired as exc:
        raise LinkExpired(str(exc)) from None
    except (signing.BadSignature, ValueError, UnicodeError) as exc:
        raise LinkInvalid(str(exc)) from None
    if not isinstance(claims, dict):
        raise LinkInvalid("the link's claims are not an object")
    return claims
