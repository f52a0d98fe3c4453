"""The password step of the admin login, and the pending sign-in between it and the second step.

A correct password for a user with a second factor does not log in: the session (given a new
key, so a planted one learns nothing) holds the user's id, the backend and where to go next
for PENDING_SECONDS. Django's login() runs only when the second step passes (complete()), so
until then the session is anonymous to every page and API."""

import time

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from config.mfa import AUTH_METHOD, PASSWORD
from config.mfa.services import has_second_factor

PENDING = "vigil_mfa_pending"
PENDING_SECONDS = 300


class _LoginView(LoginView):
    def form_valid(self, form):
        user = form.get_user()
        self.request.vigil_password_ok = True
        if has_second_factor(user):
            pending_begin(self.request, user, next_url=self.get_success_url())
            return HttpResponseRedirect(reverse("two-factor-verify"))
        response = super().form_valid(form)
        self.request.session[AUTH_METHOD] = PASSWORD
        return response


def password_login(request: HttpRequest, *, extra_context: dict | None = None) -> HttpResponse:
    """admin.site.login with the step above; request.vigil_password_ok says the password was right."""
    if request.method == "GET" and admin.site.has_permission(request):
        return HttpResponseRedirect(reverse("admin:index"))
    context = {
        **admin.site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
        **(extra_context or {}),
    }
    if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
        context[REDIRECT_FIELD_NAME] = reverse("admin:index")
    request.current_app = admin.site.name
    view = _LoginView.as_view(
        extra_context=context, authentication_form=AdminAuthenticationForm, template_name="admin/login.html"
    )
    return view(request)


def pending_begin(request: HttpRequest, user, *, next_url: str) -> None:
    request.session.cycle_key()
    request.session[PENDING] = {
        "user": user.pk,
        "backend": user.backend,
        "next": next_url,
        "expires": time.time() + PENDING_SECONDS,
    }


def pending_user(request: HttpRequest):
    """The user whose password was right and whose second step is due, or None."""
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("expires", 0) < time.time():
        return None
    return get_user_model().objects.filter(pk=pending.get("user"), is_active=True, is_staff=True).first()


def complete(request: HttpRequest, user, *, method: str) -> str:
    """Logs the pending user in, records how, and returns where to go next."""
    pending = request.session.pop(PENDING, None) or {}
    auth_login(request, user, backend=pending.get("backend"))
    request.session[AUTH_METHOD] = method
    return pending.get("next") or reverse("admin:index")
