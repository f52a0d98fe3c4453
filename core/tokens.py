"""Secret link tokens: random (256 bits), compared as their SHA-256 digest where stored hashed."""

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
