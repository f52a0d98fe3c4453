"""The public "Having trouble?" form's endpoint (POST /report-trouble) and its thank-you page.

The form sits on the cached home page, which is the same for every visitor, so it cannot carry a
per-visitor CSRF token. The endpoint is CSRF-exempt and safe without one instead:
- POST only, a form-encoded body of at most MAX_BODY_BYTES, read before any parsing;
- a cross-site form is refused: when the browser sends Origin (or Sec-Fetch-Site, or else
  Referer), it must say this site (the request's own origin, or PUBLIC_URL's);
- it sets no cookie and touches no session, and what it writes is one counter (no row, no address);
- it is throttled per client address (the "report" scope of config/throttling.py), and one visitor
  counts once per component and five minutes (statuspage.services.visitor_report_record).
A forged cross-site POST could at worst add one report, which is what a visitor can do anyway.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt

from core.http import client_address
from core.i18n import public_language
from statuspage import services, visitor_reports
from statuspage.cache import cached_public
from statuspage.models import Component
from statuspage.subscriber_views import cross_site

MAX_BODY_BYTES = 512
FORM_TYPE = "application/x-www-form-urlencoded"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def same_origin(request: HttpRequest) -> bool:
    """False when the browser says the form was posted from another site: by Origin or
    Sec-Fetch-Site, the subscribe form's check (a "null" origin, a sandboxed frame's, is never
    ours), or else by the Referer's origin. A request that names none (curl, a very old browser)
    is let through: the CSRF risk is from browsers, and current ones send Origin on a POST."""
    if cross_site(request):
        return False
    if "Origin" in request.headers or "Sec-Fetch-Site" in request.headers:
        return True
    referer = request.headers.get("Referer")
    if referer:
        own = f"{request.scheme}://{request.get_host()}"
        return _origin_of(referer) in (own, *settings.CSRF_TRUSTED_ORIGINS)
    return True


def _refused(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return render(
        request,
        "statuspage/report_refused.html",
        {"site_name": settings.SITE_NAME, "message": message},
        status=status,
    )


def _read_form(request: HttpRequest) -> QueryDict | HttpResponse:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _refused(request, 400, gettext("The request's length is not a number."))
    if declared > MAX_BODY_BYTES:
        return _refused(request, 413, gettext("That report is too large."))
    if request.content_type != FORM_TYPE:
        return _refused(request, 415, gettext("Send the form as the page does (form-encoded)."))
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _refused(request, 413, gettext("That report is too large."))
    try:
        return QueryDict(body.decode("utf-8"))
    except UnicodeDecodeError:
        return _refused(request, 400, gettext("The form could not be read."))


def _component(value: str) -> Component | None:
    """The component a report names; None for "something else". ValueError for anything else."""
    if value == visitor_reports.OTHER:
        return None
    # isdigit() alone takes "²"; the length keeps int() and the query to sane ids.
    if value.isascii() and value.isdigit() and len(value) < 12:
        component = Component.objects.filter(pk=int(value)).first()
        if component is not None:
            return component
    raise ValueError(value)


@csrf_exempt
@public_language
def report_trouble(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not same_origin(request):
        return _refused(request, 403, gettext("Reports are only taken from this status page's own form."))
    form = _read_form(request)
    if isinstance(form, HttpResponse):
        return form
    try:
        component = _component(form.get("component", ""))
    except ValueError:
        return _refused(
            request, 400, gettext("Choose one of the components on the page, or “something else”.")
        )
    problem = form.get("problem", "")
    if problem and problem not in visitor_reports.PROBLEMS:
        return _refused(request, 400, gettext("Choose one of the problems on the form, or none."))
    services.visitor_report_record(component=component, problem=problem, client=client_address(request))
    # See other: reloading the thank-you page does not post the report again.
    return HttpResponseRedirect(reverse("statuspage:report-thanks"), status=303)


@cached_public(localized=True)
def report_thanks(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "statuspage/report_thanks.html",
        {"site_name": settings.SITE_NAME, "public_url": settings.PUBLIC_URL},
    )
