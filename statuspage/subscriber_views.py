"""Public subscriber endpoints: subscribe, confirm, unsubscribe (one-click), manage.

Each answers JSON to a JSON client (a JSON body or `Accept: application/json`) and an HTML page
to a browser. They are thin: parse, call the subscribers app's services, render.

CSRF: no token, on purpose. The status page form is served from the public page cache (no per-
visitor token), mail clients' one-click POSTs carry no cookie, JSON clients have no session, and
the secret in the confirm / unsubscribe / manage URL is what authorises those requests: these
views read no cookie and no session, so a forged request carries nothing an attacker lacks.
What a browser's cross-site POST could still do (make visitors' browsers subscribe addresses, or
act on a link the attacker holds) is refused by `_same_site_posts`: a POST whose Origin (or
Sec-Fetch-Site) says it comes from another site gets 403. Requests without those headers (mail
servers, API clients) and the RFC 8058 one-click body are let through.
"""

import re
from collections.abc import Iterable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.i18n import public_language
from core.parsers import JSONBodyError, json_loads
from statuspage.models import Component
from subscribers import services as service
from subscribers.models import SubscriberStatus

MAX_BODY = 16 * 1024


class BadBody(service.SubscriberError):
    field = "non_field_errors"


def _components_from_ids(ids: Iterable[object] | None) -> list[Component]:
    """Components by id; unknown or malformed ids are a 400, not silently dropped."""
    if ids is None:
        return []
    if isinstance(ids, str | bytes | dict) or not isinstance(ids, Iterable):
        raise service.ComponentChoiceError(gettext("components must be a list of component ids."))
    wanted: set[int] = set()
    for value in ids:
        # An id is a JSON integer or a form's string of ASCII digits, within the 64-bit id range:
        # int() would also take 2.7, True and "٣", and a larger number overflows the IN (...) query.
        if isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,18}\s*", value):
            value = int(value)
        if type(value) is not int or not 0 < value < 2**63:
            raise service.ComponentChoiceError(gettext("Unknown component %(value)r.") % {"value": value})
        wanted.add(value)
    found = list(Component.objects.filter(pk__in=wanted))
    if len(found) != len(wanted):
        missing = sorted(wanted - {c.pk for c in found})
        raise service.ComponentChoiceError(
            gettext("Unknown component(s): %(ids)s.") % {"ids": ", ".join(map(str, missing))}
        )
    return found


# --- rate limits --------------------------------------------------------------------------


def wants_json(request: HttpRequest) -> bool:
    if request.content_type == "application/json":
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def client_ip(request: HttpRequest) -> str:
    header = settings.SUBSCRIBERS_CLIENT_IP_HEADER
    if header and request.META.get(header):
        # The last entry is the one our own proxy appended; earlier ones the client can forge.
        return request.META[header].split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _private(view):
    """Pages with a secret in their URL: never cached, never indexed."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
        # The URL holds the secret: a link followed to another site must not carry it in a
        # Referer header (SecurityMiddleware keeps this one). Not "no-referrer": with that, the
        # page's own form posts say "Origin: null" and look cross-site (_same_site_posts).
        response["Referrer-Policy"] = "same-origin"
        return response

    return wrapper


def cross_site(request: HttpRequest) -> bool:
    """True when a browser says this request comes from a page of another site."""
    origin = request.headers.get("Origin")
    if origin is None:
        return request.headers.get("Sec-Fetch-Site") == "cross-site"
    own = f"{request.scheme}://{request.get_host()}"
    # CSRF_TRUSTED_ORIGINS holds PUBLIC_URL: the address visitors use behind a TLS proxy.
    return origin not in (own, *settings.CSRF_TRUSTED_ORIGINS)


def _one_click(request: HttpRequest) -> bool:
    return request.content_type != "application/json" and request.POST.get("List-Unsubscribe") == "One-Click"


def _same_site_posts(*, one_click: bool = False):
    """Refuse POSTs a browser made from another site's page. `one_click`: except RFC 8058's
    one-click unsubscribe, which a webmail page of another site may send; unsubscribing is the
    safe direction, and it still needs the link's secret."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST" and cross_site(request) and not (one_click and _one_click(request)):
                return _error(
                    request,
                    gettext("Requests from other sites are refused. Use the form on the status page."),
                    status=403,
                    title=gettext("Not from this site"),
                )
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _page(request: HttpRequest, template: str, status: int = 200, **context) -> HttpResponse:
    context.setdefault("site_name", settings.SITE_NAME)
    context.setdefault("public_url", settings.PUBLIC_URL)
    return render(request, f"statuspage/subscribers/{template}", context, status=status)


def _error(request: HttpRequest, message: str, *, status: int = 400, field: str | None = None, **page):
    if wants_json(request):
        body = {"detail": message}
        if field:
            body["errors"] = {field: [message]}
        return JsonResponse(body, status=status)
    return _page(
        request,
        "message.html",
        status=status,
        title=page.pop("title", gettext("Something is wrong")),
        message=message,
        **page,
    )


def _token_error(request: HttpRequest, exc: service.TokenError):
    titles = {"expired": gettext("This link has expired"), "used": gettext("This link was already used")}
    return _error(
        request,
        str(exc),
        field="token",
        title=titles.get(exc.reason, gettext("This link is not valid")),
        reason=exc.reason,
    )


def _read_input(request: HttpRequest) -> tuple[object, object]:
    """(email, components) from a JSON body or a form post."""
    data = _read_fields(request)
    return data.get("email"), data.get("components")


def _read_fields(request: HttpRequest) -> dict:
    """The posted fields (email, kind, url, webhook, components) from a JSON body or a form."""
    if request.content_type == "application/json":
        if len(request.body) > MAX_BODY:
            raise BadBody(gettext("The request body is too large."))
        try:
            data = json_loads(request.body or b"{}")
        except JSONBodyError as exc:
            raise BadBody(gettext("The request body is not valid JSON: %(error)s") % {"error": exc}) from None
        if not isinstance(data, dict):
            raise BadBody(gettext('Send a JSON object such as {"email": "name@example.com"}.'))
        return data
    try:
        fields = {name: request.POST.get(name) for name in ("email", "kind", "url", "webhook")}
        # A form's empty text fields are absent, not "".
        fields = {name: value for name, value in fields.items() if value not in (None, "")}
        return {**fields, "components": request.POST.getlist("components") or None}
    except MultiPartParserError:  # e.g. multipart/form-data without a boundary
        raise BadBody(gettext("The form data could not be read.")) from None


def _url_kind(data: dict) -> tuple[str, object] | None:
    """(kind, url) when the input subscribes a URL: a `webhook` field, or a `kind` other than
    email (with the URL in `url`); None for an e-mail subscription."""
    kind = data.get("kind") or ("webhook" if "webhook" in data else "email")
    if kind == "email":
        return None
    return kind, data.get("url", data.get("webhook"))


@csrf_exempt
@require_http_methods(["POST"])
@public_language
@_private
@_same_site_posts()
def subscribe(request: HttpRequest) -> HttpResponse:
    ip = client_ip(request)
    try:
        service.rate_check_ip(client_ip=ip)
        data = _read_fields(request)
        if _url_kind(data) is not None:
            return _subscribe_url(request, data)
        email, component_ids = data.get("email"), data.get("components")
        address = service.normalise_email(email)
        components = _components_from_ids(component_ids)
        service.rate_check_address(address=address)
    except service.RateLimited as exc:
        response = _error(request, str(exc), status=429, title=gettext("Too many requests"))
        response["Retry-After"] = str(exc.retry_after)
        return response
    except service.SubscriberError as exc:
        return _error(request, str(exc), field=exc.field, title=gettext("Check the address"))
    service.subscriber_subscribe(email=address, components=components, language=request.LANGUAGE_CODE)
    # The same answer whether the address was new, pending, unsubscribed or confirmed.
    message = gettext(
        "Thanks. If this address can receive mail, a message with a confirmation link is on its way. "
        "The link works for %(hours)d hours."
    ) % {"hours": settings.SUBSCRIBERS_CONFIRM_HOURS}
    if wants_json(request):
        return JsonResponse({"detail": message, "email": address}, status=202)
    return _page(request, "message.html", status=202, title=gettext("Check your inbox"), message=message)


URL_SUBSCRIBED = {
    "webhook": gettext_noop("This webhook answered the challenge and is subscribed."),
    "slack": gettext_noop("The test message reached Slack; status updates will be posted there."),
    "teams": gettext_noop("The test message reached Microsoft Teams; status updates will be posted there."),
}


def _subscribe_url(request: HttpRequest, data: dict) -> HttpResponse:
    """A webhook, Slack or Teams subscription: checked and proved within this request."""
    kind, url = _url_kind(data)
    try:
        kind, url = service.normalise_url(kind=kind, url=url)
        components = _components_from_ids(data.get("components"))
        service.rate_check_address(address=f"{kind}:{url}", what="URL")
    except service.RateLimited as exc:
        response = _error(request, str(exc), status=429, title=gettext("Too many requests"))
        response["Retry-After"] = str(exc.retry_after)
        return response
    except service.SubscriberError as exc:
        return _error(request, str(exc), field=exc.field, title=gettext("Check the URL"))
    result = service.subscriber_subscribe_url(kind=kind, url=url, components=components)
    subscriber = result.subscriber
    if result.outcome == "pending":
        # The row stays pending; subscribing again is the retry (with a new secret).
        if wants_json(request):
            body = {"detail": result.error, "errors": {"url": [result.error]}, "status": subscriber.status}
            return JsonResponse(body, status=400)
        return _page(
            request, "message.html", status=400, title=gettext("Not subscribed yet"), message=result.error
        )
    links = subscriber.links()
    if result.outcome == "already_subscribed":
        message = gettext("This URL is already subscribed. Its unsubscribe link is in every message it gets.")
        if wants_json(request):
            return JsonResponse({"detail": message, "kind": kind, "status": subscriber.status})
        return _page(request, "message.html", title=gettext("Already subscribed"), message=message)
    body = {
        "detail": gettext(URL_SUBSCRIBED[kind]),
        "kind": kind,
        "status": subscriber.status,
        "manage_url": links["manage_url"],
        "unsubscribe_url": links["unsubscribe_url"],
    }
    if result.secret:
        body["secret"] = result.secret
    if wants_json(request):
        return JsonResponse(body, status=201)
    return _page(
        request,
        "message.html",
        status=201,
        title=gettext("Subscribed"),
        message=gettext(URL_SUBSCRIBED[kind]),
        secret=result.secret,
        manage_url=links["manage_url"],
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
@public_language
@_private
@_same_site_posts()
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        # A page with one button: mail scanners that prefetch links do not confirm on their own.
        try:
            subscriber = service.subscriber_for_confirm_token(token)
        except service.TokenError as exc:
            return _token_error(request, exc)
        already = subscriber.status == SubscriberStatus.CONFIRMED
        if wants_json(request):
            return JsonResponse(
                {"status": subscriber.status, "detail": gettext("POST to this URL to confirm.")}
            )
        return _page(request, "confirm.html", subscriber=subscriber, already=already, token=token)
    try:
        subscriber = service.subscriber_confirm(token=token)
    except service.TokenError as exc:
        return _token_error(request, exc)
    message = gettext("Your subscription is confirmed. You will get an e-mail when something happens.")
    if wants_json(request):
        return JsonResponse({"status": subscriber.status, "detail": message})
    return _page(
        request,
        "message.html",
        title=gettext("Subscription confirmed"),
        message=message,
        manage_url=subscriber.links()["manage_url"],
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
@public_language
@_private
@_same_site_posts(one_click=True)
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with one button. POST: unsubscribe at once, which is also what a mail
    client's RFC 8058 one-click request (body "List-Unsubscribe=One-Click") does."""
    try:
        subscriber = service.subscriber_for_manage_token(token)
    except service.TokenError as exc:
        return _token_error(request, exc)
    if request.method == "GET":
        if wants_json(request):
            return JsonResponse(
                {"status": subscriber.status, "detail": gettext("POST to this URL to unsubscribe.")}
            )
        return _page(request, "unsubscribe.html", subscriber=subscriber, token=token)
    service.subscriber_unsubscribe(subscriber=subscriber)
    message = gettext("%(subscriber)s will get no more messages from %(site)s status updates.") % {
        "subscriber": subscriber,
        "site": settings.SITE_NAME,
    }
    if wants_json(request):
        return JsonResponse({"status": subscriber.status, "detail": message})
    return _page(request, "message.html", title=gettext("You are unsubscribed"), message=message)


@csrf_exempt
@require_http_methods(["GET", "POST"])
@public_language
@_private
@_same_site_posts()
def manage(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = service.subscriber_for_manage_token(token)
    except service.TokenError as exc:
        return _token_error(request, exc)
    saved = False
    if request.method == "POST":
        try:
            _, component_ids = _read_input(request)
            components = _components_from_ids(component_ids)
            subscriber = service.subscriber_update_components(subscriber=subscriber, components=components)
        except service.SubscriberError as exc:
            return _error(request, str(exc), field=exc.field, title=gettext("Could not save"))
        saved = True
    chosen = set(subscriber.components.values_list("pk", flat=True))
    if wants_json(request):
        return JsonResponse(
            {"email": subscriber.email, "status": subscriber.status, "components": sorted(chosen)}
        )
    components = Component.objects.select_related("group").order_by("group__position", "position", "name")
    return _page(
        request,
        "manage.html",
        token=token,
        subscriber=subscriber,
        components=components,
        chosen=chosen,
        saved=saved,
        unsubscribe_url=subscriber.links()["unsubscribe_url"],
        unsubscribed=subscriber.status == SubscriberStatus.UNSUBSCRIBED,
    )
