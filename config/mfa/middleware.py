"""Keeps the second step from being skipped, and sends users who must enrol to enrol.

For a signed-in session that did not sign in with a second factor (nor through single sign-on):
- if its user has a TOTP device or a security key now, the session counts as signed out (it
  predates the device, or was made some other way than the login form); the login asks for
  both steps again;
- if its user's role requires two-factor sign-in (MFA_REQUIRED_ROLES) and they have no device,
  the admin sends them to the Two-factor page, and every other page and the session-signed API
  see no user, until they enrol.
API keys are not sessions and pass untouched: they are machine credentials.

A strong session costs nothing here; only password-only sessions pay a query or two."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from config.mfa import AUTH_METHOD, STRONG_METHODS
from config.mfa.services import enrolment_required, has_second_factor

# What a user who must enrol may still open.
ENROLMENT_PATHS = ("/admin/two-factor/", "/admin/logout/", "/admin/jsi18n/")


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        redirect = self._gate(request)
        return redirect or self.get_response(request)

    def _gate(self, request: HttpRequest) -> HttpResponseRedirect | None:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            # No session to judge. Reading an empty one would still mark it accessed, and every
            # public answer would then carry Vary: Cookie, splitting shared caches per visitor.
            return None
        session = getattr(request, "session", None)
        if session is None or SESSION_KEY not in session or session.get(AUTH_METHOD) in STRONG_METHODS:
            return None
        user = request.user
        if not user.is_authenticated:
            return None
        if has_second_factor(user):
            request.user = AnonymousUser()
            return None
        path = request.path_info
        if path.startswith(ENROLMENT_PATHS) or path.startswith(f"/{settings.STATIC_URL.lstrip('/')}"):
            return None
        if enrolment_required(user):
            if path.startswith("/admin/"):
                return HttpResponseRedirect(reverse("two-factor"))
            request.user = AnonymousUser()
        return None
