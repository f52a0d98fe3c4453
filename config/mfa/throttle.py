"""Failed second steps (a wrong TOTP or recovery code, a key's answer that does not verify, a
wrong confirmation before removing a device), counted like failed logins: per client address
and per user, in LOGIN_FAILURE_WINDOW, against LOGIN_FAILURES_PER_IP / _PER_USERNAME. Per user
as well as per address, so guesses spread over many addresses still stop; a six-digit code
would otherwise fall to a patient attacker who has the password. A passed step clears the
user's counter."""

from django.conf import settings
from django.http import HttpRequest

from config import ratelimit


def _keys(request: HttpRequest, user_id: int) -> list[tuple[str, int]]:
    keys = [(f"mfa:user:{user_id}", settings.LOGIN_FAILURES_PER_USERNAME)]
    address = ratelimit.client_address(request)
    if not ratelimit.exempt(address):
        keys.append((f"mfa:ip:{address}", settings.LOGIN_FAILURES_PER_IP))
    return keys


def refused_for(request: HttpRequest, user_id: int) -> int | None:
    """Seconds to wait when this user or address is past its limit, else None."""
    window = settings.LOGIN_FAILURE_WINDOW
    if any(ratelimit.count(key, window=window) >= limit for key, limit in _keys(request, user_id)):
        return ratelimit.retry_after(window=window)
    return None


def failed(request: HttpRequest, user_id: int) -> None:
    for key, _ in _keys(request, user_id):
        ratelimit.hit(key, window=settings.LOGIN_FAILURE_WINDOW)


def passed(request: HttpRequest, user_id: int) -> None:
    ratelimit.clear(f"mfa:user:{user_id}", window=settings.LOGIN_FAILURE_WINDOW)
