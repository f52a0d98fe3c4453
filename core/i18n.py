"""Languages of the public side: the status page, the subscriber pages and the subscriber mails.

A visitor's language is the one they picked on the page (a cookie), or else the best match of
their browser's Accept-Language among LANGUAGES, or else LANGUAGE_CODE: Django's own negotiation
(`translation.get_language_from_request`), so "de-AT" gets German and "pt" gets English.

Only views marked `public_language` follow the visitor. The console, the API and the feeds stay
in LANGUAGE_CODE: their own text is not translated, so following the browser there would mix
Django's translated words with Vigil's English ones, and API clients read error messages that
their code may match. Django's LocaleMiddleware does the work; here it is only told where.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

MARK = "public_language"


def public_language(view: Callable) -> Callable:
    """Mark a view as answering in the visitor's language (PublicLocaleMiddleware)."""
    setattr(view, MARK, True)
    return view


def visitor_language(request: HttpRequest) -> str:
    """The language this request is answered in, when its view follows the visitor."""
    return translation.get_language_from_request(request)


def language_headers(response: HttpResponse, language: str) -> HttpResponse:
    """What a response in one language of several says about it, on every path that serves one
    (the page cache's early answers too): caches keep one copy per language and picker cookie."""
    response["Content-Language"] = language
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def language_choices() -> list[tuple[str, str]]:
    """(code, name in its own language) for the picker: a visitor looks for their own language's
    name, not its English one."""
    return [(code, translation.get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES]


class PublicLocaleMiddleware(LocaleMiddleware):
    """LocaleMiddleware for the public views only; every other request is answered in
    LANGUAGE_CODE. (Each request activates one or the other: translation state lives as long as
    the worker's thread, so a request after a German page must not inherit German.)"""

    def process_request(self, request: HttpRequest) -> None:
        translation.activate(settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = settings.LANGUAGE_CODE

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        if getattr(view_func, MARK, False):
            language = visitor_language(request)
            translation.activate(language)
            request.LANGUAGE_CODE = language
            request.public_language = language

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        language = getattr(request, "public_language", None)
        if language:
            language_headers(response, language)
        return response
