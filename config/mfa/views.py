"""The second step of the login, and each user's own "Two-factor" page in the admin. Thin: the
rules are in services.py, webauthn.py and login.py."""

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.mfa import (
    AUTH_METHOD,
    PASSWORD_RECOVERY,
    PASSWORD_TOTP,
    PASSWORD_WEBAUTHN,
    STRONG_METHODS,
    services,
    throttle,
    webauthn,
)
from config.mfa.login import complete, pending_user
from config.mfa.services import TwoFactorError
from config.models import WebAuthnCredential
from core.parsers import JSONBodyError, json_loads

WRONG_CODE = "That code is not right, or it was used already."


def _page(request: HttpRequest, template: str, title: str, status: int = 200, **context) -> TemplateResponse:
    context = {**admin.site.each_context(request), "title": title, **context}
    return TemplateResponse(request, f"admin/two_factor/{template}", context, status=status)


def _throttled(request: HttpRequest, wait: int, *, json: bool = False) -> HttpResponse:
    message = f"Too many wrong codes for this account or from this address. Try again in {wait} seconds."
    if json:
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = _page(request, "throttled.html", "Too many wrong codes", status=429, message=message)
    response["Retry-After"] = str(wait)
    return response


def _json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


def _body(request: HttpRequest) -> dict:
    # A form body is read (and its stream used up) by the CSRF check: only JSON comes here whole.
    if request.content_type != "application/json":
        raise TwoFactorError("Send the key's answer as JSON (Content-Type: application/json).")
    try:
        body = json_loads(request.body)
    except JSONBodyError as exc:
        raise TwoFactorError(str(exc)) from None
    if not isinstance(body, dict) or not isinstance(body.get("credential", {}), dict):
        raise TwoFactorError("Send a JSON object with the key's answer under 'credential'.")
    return body


# --- The second step -------------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def verify_view(request: HttpRequest) -> HttpResponse:
    user = pending_user(request)
    if user is None:
        return HttpResponseRedirect(reverse("admin:login"))
    error = ""
    if request.method == "POST":
        wait = throttle.refused_for(request, user.pk)
        if wait:
            return _throttled(request, wait)
        code = str(request.POST.get("code", ""))[:64]
        method = None
        if services.totp_verify(user=user, code=code):
            method = PASSWORD_TOTP
        elif services.recovery_code_use(user=user, code=code):
            method = PASSWORD_RECOVERY
        if method:
            throttle.passed(request, user.pk)
            target = complete(request, user, method=method)
            if method == PASSWORD_RECOVERY:
                left = services.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. Make new ones on the Two-factor page.",
                )
            return HttpResponseRedirect(target)
        throttle.failed(request, user.pk)
        error = WRONG_CODE
    return _page(
        request,
        "verify.html",
        "Two-factor sign-in",
        error=error,
        has_totp=TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        has_keys=WebAuthnCredential.objects.filter(user=user).exists(),
        has_recovery=services.recovery_codes_left(user) > 0,
    )


def _pending_key_step(request: HttpRequest):
    """(user, None) for a pending sign-in that may try a key now, else (None, the refusal)."""
    user = pending_user(request)
    if user is None:
        return None, _json_error("Sign in with your password first.", 401)
    wait = throttle.refused_for(request, user.pk)
    if wait:
        return None, _throttled(request, wait, json=True)
    return user, None


@never_cache
@require_POST
def verify_webauthn_options_view(request: HttpRequest) -> HttpResponse:
    user, refusal = _pending_key_step(request)
    if refusal:
        return refusal
    return HttpResponse(webauthn.authentication_options(request, user), content_type="application/json")


@never_cache
@require_POST
def verify_webauthn_view(request: HttpRequest) -> HttpResponse:
    user, refusal = _pending_key_step(request)
    if refusal:
        return refusal
    try:
        webauthn.authentication_verify(request, user, credential=_body(request).get("credential", {}))
    except TwoFactorError as exc:
        throttle.failed(request, user.pk)
        return _json_error(str(exc), 400)
    throttle.passed(request, user.pk)
    return JsonResponse({"redirect": complete(request, user, method=PASSWORD_WEBAUTHN)})


# --- The user's own devices ------------------------------------------------------------------


def _proved(request: HttpRequest, method: str) -> None:
    """A password session that has just shown a new device's code or key counts as that method."""
    if request.session.get(AUTH_METHOD) not in STRONG_METHODS:
        request.session[AUTH_METHOD] = method


@staff_member_required
@never_cache
@require_http_methods(["GET"])
def devices_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    return _page(
        request,
        "devices.html",
        "Two-factor sign-in",
        totp_devices=TOTPDevice.objects.filter(user=user, confirmed=True),
        keys=WebAuthnCredential.objects.filter(user=user),
        recovery_left=services.recovery_codes_left(user),
        recovery_device=user.staticdevice_set.first(),
        has_second_factor=services.has_second_factor(user),
        required=services.enrolment_required(user),
    )


@staff_member_required
@require_POST
def totp_add_view(request: HttpRequest) -> HttpResponse:
    device = services.totp_begin(user=request.user, name=str(request.POST.get("name", "")))
    return HttpResponseRedirect(reverse("two-factor-totp-confirm", args=[device.pk]))


@staff_member_required
@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def totp_confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    device = get_object_or_404(TOTPDevice, pk=pk, user=request.user, confirmed=False)
    error = ""
    if request.method == "POST":
        wait = throttle.refused_for(request, request.user.pk)
        if wait:
            return _throttled(request, wait)
        if services.totp_confirm(device=device, code=str(request.POST.get("code", ""))[:64]):
            throttle.passed(request, request.user.pk)
            _proved(request, PASSWORD_TOTP)
            messages.success(request, f"“{device.name}” is set up. Keep recovery codes in case you lose it.")
            return HttpResponseRedirect(reverse("two-factor"))
        throttle.failed(request, request.user.pk)
        error = WRONG_CODE
    return _page(
        request,
        "totp_confirm.html",
        "Add an authenticator app",
        device=device,
        qr_svg=services.totp_qr_svg(device),
        secret=services.totp_secret(device),
        error=error,
    )


@staff_member_required
@never_cache
@require_POST
def recovery_codes_view(request: HttpRequest) -> HttpResponse:
    try:
        codes = services.recovery_codes_generate(user=request.user)
    except TwoFactorError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("two-factor"))
    return _page(request, "recovery_codes.html", "Your recovery codes", codes=codes)


@staff_member_required
@never_cache
@require_POST
def webauthn_options_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(webauthn.registration_options(request, request.user), content_type="application/json")


@staff_member_required
@never_cache
@require_POST
def webauthn_register_view(request: HttpRequest) -> HttpResponse:
    try:
        body = _body(request)
        key = webauthn.registration_verify(
            request, request.user, name=str(body.get("name", "")), credential=body.get("credential", {})
        )
    except TwoFactorError as exc:
        return _json_error(str(exc), 400)
    _proved(request, PASSWORD_WEBAUTHN)
    messages.success(request, f"Security key “{key.name}” is set up.")
    return JsonResponse({"redirect": reverse("two-factor")})


@staff_member_required
@sensitive_post_parameters("confirm")
@require_POST
def device_remove_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user = request.user
    wait = throttle.refused_for(request, user.pk)
    if wait:
        return _throttled(request, wait)
    if not services.confirmation_valid(user=user, answer=str(request.POST.get("confirm", ""))[:256]):
        throttle.failed(request, user.pk)
        messages.error(request, "Nothing was removed: give your password or a current code to confirm.")
        return HttpResponseRedirect(reverse("two-factor"))
    throttle.passed(request, user.pk)
    try:
        services.device_remove(user=user, kind=kind, pk=pk)
    except TwoFactorError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Removed.")
    return HttpResponseRedirect(reverse("two-factor"))
