"""Brute-force protection of the admin login: failed logins are counted per client address and
per username in fixed windows (config/ratelimit.py). Past either limit, a login POST is refused
with 429 and Retry-After before the password is even checked, so guessing cannot go on, and a
correct password does not open the door during the lock-out either.

Per username as well as per address: an attacker spreading guesses over many addresses still
hits the per-username limit. The price is that someone who knows a username can keep that user
locked out for a window at a time (LOGIN_FAILURE_WINDOW); the per-username limit is higher than
a person mistyping would reach. A correct password clears its username's counter, also when a
second step follows (config/mfa/, which counts failed second steps on counters of its own).
"""

import hashlib
import unicodedata

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from config import ratelimit
from config.mfa.login import password_login
from config.sso import password_login_enabled, sso_enabled


def username_key(typed: str) -> str:
    """The name the lock counts: the login form turns what was typed into a username with NFKC
    (UsernameField), so full-width "ｖｉｅｗｅｒ" logs in as "viewer"; counting anything less
    normalised would give each spelling a fresh set of attempts. Casefolded, as usernames that
    differ only in case are one person to an attacker guessing."""
    return unicodedata.normalize("NFKC", typed).strip().casefold()


def _keys(request: HttpRequest) -> list[tuple[str, int]]:
    """(counter key, limit) that this login attempt counts against."""
    keys = []
    address = ratelimit.client_address(request)
    if not ratelimit.exempt(address):
        keys.append((f"login:ip:{address}", settings.LOGIN_FAILURES_PER_IP))
    username = username_key(str(request.POST.get("username", "")))
    if username:
        # Hashed: the cache need not hold what people typed as a username (sometimes a password).
        digest = hashlib.sha256(username.encode()).hexdigest()[:32]
        keys.append((f"login:user:{digest}", settings.LOGIN_FAILURES_PER_USERNAME))
    return keys


def _login_context() -> dict:
    """What the login page shows besides the form: the single sign-on button, and the form only
    while password sign-in is on (config/sso)."""
    return {
        "sso_enabled": sso_enabled(),
        "sso_name": settings.OIDC_PROVIDER_NAME,
        "local_login": password_login_enabled(),
    }


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's login, counting failures and refusing attempts past the limits."""
    if request.method != "POST":
        return password_login(request, extra_context=_login_context())
    if not password_login_enabled():
        # Refused before the password is looked at: with LOCAL_LOGIN=0 a right password opens
        # nothing, so guessing one is pointless too.
        context = {
            **admin.site.each_context(request),
            "title": "Password sign-in is off",
            "message": f"Password sign-in is turned off. Sign in with {settings.OIDC_PROVIDER_NAME}.",
        }
        return TemplateResponse(request, "admin/sso_problem.html", context, status=403)
    window = settings.LOGIN_FAILURE_WINDOW
    keys = _keys(request)
    if any(ratelimit.count(key, window=window) >= limit for key, limit in keys):
        wait = ratelimit.retry_after(window=window)
        context = {**admin.site.each_context(request), "title": "Too many failed logins", "wait": wait}
        response = TemplateResponse(request, "admin/login_throttled.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    response = password_login(request, extra_context=_login_context())
    if getattr(request, "vigil_password_ok", False):
        for key, _ in keys:
            if key.startswith("login:user:"):
                ratelimit.clear(key, window=window)
    else:
        for key, _ in keys:
            ratelimit.hit(key, window=window)
    return response
