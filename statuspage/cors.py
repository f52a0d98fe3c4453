"""CORS for the public JSON: readable from any origin, as Statuspage's public API is, so status
widgets on other sites can embed it. The views opt in with cached_public(cors=True); this module
is the one place that says what their answers carry.

Kept in the project rather than django-cors-headers: the answers are the same for every origin
(`*`, no credentials), the paths are the views that opt in rather than a URL pattern kept in the
settings, and the headers of a cached answer have to be added where CachedPageMiddleware builds
it, above any middleware the library would bring."""

import re

from django.http import HttpRequest, HttpResponse

ALLOWED_METHODS = ("GET", "HEAD", "OPTIONS")
# Browsers cap it lower (Chromium at two hours); the most any of them keeps a preflight.
PREFLIGHT_MAX_AGE = 86400
# A list of header field names (RFC 9110 tokens); anything else is not echoed back.
_HEADER_NAMES = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$")
_MAX_REQUESTED_HEADERS = 1000


def allow_any_origin(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    # So a script on another site can read the version and send it back in If-None-Match.
    response["Access-Control-Expose-Headers"] = "ETag"
    return response


def preflight(request: HttpRequest) -> HttpResponse:
    """The answer to a browser's OPTIONS before a GET it may not send unasked (one with a custom
    header). The documents are public and sent without credentials, so any header a script
    wants to add is allowed: it is echoed back."""
    response = allow_any_origin(HttpResponse(status=204))
    response["Allow"] = response["Access-Control-Allow-Methods"] = ", ".join(ALLOWED_METHODS)
    requested = request.headers.get("Access-Control-Request-Headers", "").strip()
    if requested and len(requested) <= _MAX_REQUESTED_HEADERS and _HEADER_NAMES.match(requested):
        response["Access-Control-Allow-Headers"] = requested
    response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    response["Vary"] = "Access-Control-Request-Headers"
    return response
