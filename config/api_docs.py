"""Redoc's bundle as the API docs page loads it, with its one request to another host taken out.

Redoc always draws a small "Redocly" logo in its sidebar from its authors' CDN, whatever its
options say. Vigil serves every asset itself and works offline, and the Content-Security-Policy
blocks that image anyway (a report in every staff browser's console), so the bundle drf-spectacular's
sidecar ships is served with that one address replaced by an empty image; the link beside it keeps
its text."""

from functools import lru_cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse

from core.views import read_only

SIDECAR_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_IMAGE = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


@lru_cache(maxsize=1)
def redoc_bundle() -> bytes:
    source = Path(finders.find(SIDECAR_BUNDLE)).read_text(encoding="utf-8")
    return source.replace(REDOC_LOGO, EMPTY_IMAGE).encode()


@read_only
def redoc_bundle_view(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(redoc_bundle(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
