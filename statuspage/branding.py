"""The status page's branding, read side: what templates, mails and feeds are given, and the
files under /branding/ (the stylesheet made of the accent colour and the custom CSS, the logo
and the favicon). Writes are statuspage.services.branding_update; the rules are in
statuspage/branding_checks.py.

Each file's URL holds a hash of its content, so it is served with a year's Cache-Control and a
page names a new URL as soon as the branding changes (the page cache turns over with it).
"""

import logging

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from statuspage.branding_checks import IMAGE_TYPES
from statuspage.models import StatusPageBranding

logger = logging.getLogger(__name__)

FILE_MAX_AGE = 365 * 24 * 3600
CONTENT_TYPES = {extension: content_type for extension, content_type in IMAGE_TYPES.values()}
# Served files are never documents: no script, no plugin, no frame, whatever a browser makes of them.
FILE_POLICY = "default-src 'none'; style-src 'self'; img-src 'self' data:; sandbox"


def branding_get() -> StatusPageBranding:
    """The branding row, or an unsaved empty one (Vigil's own look) when staff never set it."""
    try:
        row = StatusPageBranding.objects.filter(pk=StatusPageBranding.SINGLETON_PK).first()
    except DatabaseError as exc:
        # An error page must still render while the database is unreachable: in Vigil's own look.
        logger.warning("branding not read, Vigil's own look used: %s", exc)
        row = None
    return row if row is not None else StatusPageBranding(pk=StatusPageBranding.SINGLETON_PK)


def context(request: HttpRequest) -> dict:
    """Template context processor: `branding` in every template, read only when a template uses it."""
    return {"branding": SimpleLazyObject(branding_get)}


def mail_context() -> dict:
    """The branding a mail carries (kept in the message's JSON context, so plain values): the
    logo as an absolute URL under PUBLIC_URL, since a mail is read far from the site."""
    row = branding_get()
    return {
        "branding": {
            "title": row.title,
            "custom_title": row.page_title,
            "logo_url": settings.PUBLIC_URL + row.logo_url if row.logo else "",
            "accent": row.accent_colour,
            "footer_links": list(row.footer_links or []),
            "about": row.about,
        }
    }


def _file_response(content: bytes | str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = f"public, max-age={FILE_MAX_AGE}, immutable"
    response["Content-Security-Policy"] = FILE_POLICY
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


# Read-only: exempt so that a POST gets require_safe's 405 rather than the CSRF page.
@csrf_exempt
@require_safe
def branding_file(request: HttpRequest, name: str) -> HttpResponse:
    """/branding/<name>: only the names the current branding gives, never a path into storage."""
    row = branding_get()
    if name and name == row.stylesheet_name():
        return _file_response(row.stylesheet(), "text/css; charset=utf-8")
    stored = row.file_names().get(name)
    content_type = CONTENT_TYPES.get(name.rsplit(".", 1)[-1])
    if stored is None or content_type is None:
        raise Http404("No such branding file")
    try:
        with default_storage.open(stored) as handle:
            content = handle.read()
    except FileNotFoundError:
        raise Http404("Branding file missing from storage") from None
    response = _file_response(content, content_type)
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response
