"""Site-wide error handlers (config/urls.py handler400/403/404/500).

A request the URL resolver cannot route (an id that is not a number, a typo in the path) never
reaches a view, so DRF's exception handler never sees it. API clients must still get the API's
error shape, JSON, whatever went wrong; people browsing the site keep Django's pages.
"""

from django.http import HttpRequest, JsonResponse
from django.views import defaults

# The same paths config.url_inventory.api_paths counts as API.
API_PREFIXES = ("/api/", "/health", "/metrics")


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def _json(message: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


def bad_request(request: HttpRequest, exception=None):
    if is_api(request):
        return _json("Bad request.", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception=None):
    if is_api(request):
        return _json("You do not have permission to perform this action.", 403)
    return defaults.permission_denied(request, exception)


def not_found(request: HttpRequest, exception=None):
    if is_api(request):
        return _json("Not found.", 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest):
    if is_api(request):
        return _json("Server error.", 500)
    return defaults.server_error(request)
