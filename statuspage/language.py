"""The public pages' language picker: GET /language?language=de&next=/incidents/4.

A plain GET form, because the pages it sits on come from the page cache and so carry no
per-visitor CSRF token. It writes nothing on the server: it remembers the pick in a cookie
(LANGUAGE_COOKIE_NAME), which the page cache's key and Vary header follow, and sends the visitor
back where they were. A forged link can at worst change someone's page language, which the
picker changes back.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from core.i18n import public_language


def _next_path(request: HttpRequest) -> str:
    """Where to go back to: a path of this site only, so the picker is no open redirect."""
    wanted = request.GET.get("next", "")
    if wanted.startswith("/") and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return "/"


@csrf_exempt
@require_safe
@public_language
def choose_language(request: HttpRequest) -> HttpResponse:
    codes = [code for code, _name in settings.LANGUAGES]
    language = request.GET.get("language", "")
    if language not in codes:
        response = render(
            request,
            "statuspage/subscribers/message.html",
            {
                "site_name": settings.SITE_NAME,
                "title": gettext("Unknown language"),
                "message": gettext("Choose one of the languages the page offers: %(codes)s.")
                % {"codes": ", ".join(codes)},
            },
            status=400,
        )
    else:
        translation.activate(language)
        request.public_language = language  # the answer is in the language just picked
        response = HttpResponseRedirect(_next_path(request), status=303)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path="/",
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    response["Cache-Control"] = "no-store"
    return response
