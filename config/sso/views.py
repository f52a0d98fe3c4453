"""The sign-in round trip (authorization code flow with state, nonce and PKCE) and the logout.

/sso/login keeps a state, a nonce and a PKCE verifier in the session and sends the browser to the
provider; /sso/callback takes the state back out (each works once), exchanges the code for an ID
token, checks it, and logs the user in. Whatever goes wrong ends on a page that says what, with
no session: 400 for a request that cannot be completed (a used or unknown state, no code), 403
for a refusal (a bad token, no role), 502 when the provider is down or answers junk.
"""

import logging
import secrets
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, auth
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from config.sso import AUTH_METHOD, AUTH_METHOD_KEY, sso_enabled
from config.sso.id_token import TokenRefused, id_token_claims
from config.sso.provider import ProviderError, ProviderRefused, pkce_challenge, provider, token_request
from config.sso.services import SignInRefused, sso_sign_in
from core.views import read_only

log = logging.getLogger(__name__)

FLOWS_KEY = "vigil_oidc_flows"
ID_TOKEN_KEY = "vigil_oidc_id_token"
# Sign-ins started and not finished that a session keeps (a few tabs); the oldest goes first.
MAX_FLOWS = 5
# A sign-in must come back from the provider within this long.
FLOW_SECONDS = 600


def redirect_uri() -> str:
    """The callback URL registered at the provider: under PUBLIC_URL, whatever Host a request
    names, so it matches the registration exactly."""
    return settings.PUBLIC_URL + reverse("sso-callback")


def _problem(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": title,
        "message": message,
        "provider_name": settings.OIDC_PROVIDER_NAME,
    }
    return TemplateResponse(request, "admin/sso_problem.html", context, status=status)


def _next_url(request: HttpRequest) -> str:
    wanted = request.GET.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}):
        return wanted
    return reverse("admin:index")


# read_only: GET and HEAD, other methods a 405 before any CSRF check. Neither route takes a form:
# the state kept in the session is what ties a callback to the browser that started it (so
# nobody can log a victim in as someone else), which a CSRF token would only repeat.
@never_cache
@read_only
def sso_login(request: HttpRequest) -> HttpResponse:
    if not sso_enabled():
        raise Http404("Single sign-on is not configured.")
    try:
        found = provider()
    except ProviderError as exc:
        log.warning("single sign-on: discovery failed: %s", exc)
        return _problem(request, 502, "Sign-in unavailable", f"The identity provider is unavailable: {exc}.")
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    flows = request.session.get(FLOWS_KEY)
    flows = flows if isinstance(flows, dict) else {}
    flows[state] = {"nonce": nonce, "verifier": verifier, "next": _next_url(request), "at": time.time()}
    request.session[FLOWS_KEY] = dict(sorted(flows.items(), key=lambda item: item[1]["at"])[-MAX_FLOWS:])
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.OIDC_CLIENT_ID,
            "redirect_uri": redirect_uri(),
            "scope": " ".join(settings.OIDC_SCOPES),
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    separator = "&" if "?" in found.authorization_endpoint else "?"
    return HttpResponseRedirect(f"{found.authorization_endpoint}{separator}{query}")


def _flow_take(request: HttpRequest, state: str) -> dict | None:
    """The sign-in this state belongs to, taken out of the session so it works once only."""
    flows = request.session.get(FLOWS_KEY)
    if not isinstance(flows, dict) or not state or state not in flows:
        return None
    flow = flows.pop(state)
    request.session[FLOWS_KEY] = flows
    request.session.save()  # before the slow part: a second use of the state finds it gone
    if not isinstance(flow, dict) or time.time() - flow.get("at", 0) > FLOW_SECONDS:
        return None
    return flow


@never_cache
@read_only
def sso_callback(request: HttpRequest) -> HttpResponse:
    if not sso_enabled():
        raise Http404("Single sign-on is not configured.")
    flow = _flow_take(request, request.GET.get("state", ""))
    if flow is None:
        return _problem(
            request,
            400,
            "Sign-in not completed",
            "This sign-in was already used, has expired or was started elsewhere. Start again from the "
            "login page.",
        )
    error = request.GET.get("error", "")
    if error:
        told = error if error.replace("_", "").isalpha() else "an error"
        return _problem(
            request, 403, "Sign-in refused", f"The identity provider refused the sign-in ({told[:40]})."
        )
    code = request.GET.get("code", "")
    if not code:
        return _problem(request, 400, "Sign-in not completed", "The identity provider sent no code back.")
    try:
        raw = token_request(code=code, redirect_uri=redirect_uri(), code_verifier=flow["verifier"])
        claims = id_token_claims(raw, nonce=flow["nonce"])
    except ProviderError as exc:
        log.warning("single sign-on: token request failed: %s", exc)
        return _problem(request, 502, "Sign-in unavailable", f"The identity provider is unavailable: {exc}.")
    except ProviderRefused as exc:
        return _problem(request, 400, "Sign-in not completed", f"{exc} Start again from the login page.")
    except TokenRefused as exc:
        log.warning("single sign-on: ID token refused: %s", exc)
        return _problem(request, 403, "Sign-in refused", str(exc))
    if request.user.is_authenticated:
        # Someone else's session in this browser ends here, before the new person's writes.
        auth.logout(request)
    try:
        user = sso_sign_in(request=request, issuer=settings.OIDC_ISSUER, claims=claims)
    except SignInRefused as exc:
        return _problem(request, 403, "Sign-in refused", str(exc))
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    # Read by the second-factor check: the provider has already asked for whatever it requires.
    request.session[AUTH_METHOD_KEY] = AUTH_METHOD
    request.session[ID_TOKEN_KEY] = raw
    return HttpResponseRedirect(flow.get("next") or reverse("admin:index"))


def sso_logout(request: HttpRequest) -> HttpResponse:
    """The admin's logout, then (for a single sign-on session that has one) the provider's
    end_session_endpoint, so the browser does not walk straight back in (RP-initiated logout).
    The browser gets there from a page that refreshes to it (templates/admin/sso_logged_out.html)."""
    id_token = (
        request.session.get(ID_TOKEN_KEY) if request.session.get(AUTH_METHOD_KEY) == AUTH_METHOD else None
    )
    response = admin.site.logout(request)
    if request.method != "POST" or not id_token or not sso_enabled() or response.status_code != 200:
        return response
    try:
        end_session = provider().end_session_endpoint
    except ProviderError:
        return response  # the local session is over; the provider's can wait
    if not end_session:
        return response
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_CLIENT_ID,
            "post_logout_redirect_uri": settings.PUBLIC_URL + reverse("admin:login"),
        }
    )
    separator = "&" if "?" in end_session else "?"
    context = {
        **admin.site.each_context(request),
        "title": "Logged out",
        "end_session_url": f"{end_session}{separator}{query}",
        "provider_name": settings.OIDC_PROVIDER_NAME,
    }
    return TemplateResponse(request, "admin/sso_logged_out.html", context)
