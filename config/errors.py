"""Error pages: the API answers in its error shape ({"detail": ...}), everything else gets the
site's own page (templates/404.html and friends). Never a traceback, settings or the exception's
text: with DEBUG=0 these are what a visitor sees, and an exception's text may hold a secret.

A request the URL resolver cannot route (an id that is not a number, a typo in the path) never
reaches a view, so DRF's exception handler never sees it: API clients still get JSON here. With
DEBUG=1 (the demo) Django skips handler404 for its HTML debug page; ApiNotFoundMiddleware answers
those API paths with the same JSON."""

from django.http import HttpRequest, JsonResponse
from django.views import defaults

# The same paths config.url_inventory.api_paths counts as API.
API_PREFIXES = ("/api/", "/health", "/metrics")
PAGES_UNDER_API = ("/api/docs/", "/api/redoc/")


def _api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES) and not request.path.startswith(PAGES_UNDER_API)


def _json(message: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception):
    if _api(request):
        return _json("Bad request.", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception):
    if _api(request):
        return _json("You do not have permission to perform this action.", 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception):
    if _api(request):
        return _json("Not found.", 404)
    return defaults.page_not_found(request, exception)


class ApiNotFoundMiddleware:
    """An API path that matched no URL gets the JSON 404 with DEBUG=1 too. Above CommonMiddleware,
    so a path that only lacks its slash is still redirected first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and _api(request)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return _json("Not found.", 404)
        return response


def server_error(request: HttpRequest):
    if _api(request):
        return _json("Server error. It has been logged.", 500)
    return defaults.server_error(request)
