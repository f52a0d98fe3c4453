"""Content-Security-Policy on every response (Django 5.2 has none built in).

The policy is CONTENT_SECURITY_POLICY (settings, from the environment): scripts and styles only
from Vigil itself, no inline code, no framing, forms that post only to Vigil. The pages and
templates are written for it: no inline <script>, <style> or style="" (the admin dashboard and
the API docs load their own files).

Two kinds of page cannot live without inline styles, both staff tools: the API docs (Redoc
builds its styles at run time with styled-components, Swagger UI sets some too) and DRF's
browsable API (its templates use style="" attributes). They get CONTENT_SECURITY_POLICY_API_DOCS,
which also allows inline styles, never inline scripts. A view that sets the header itself keeps it.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def policy_for(request: HttpRequest, response: HttpResponse) -> str:
    renderer = getattr(response, "accepted_renderer", None)
    if request.path.startswith(tuple(settings.CONTENT_SECURITY_POLICY_API_DOCS_PATHS)) or (
        getattr(renderer, "format", None) == "api"
    ):
        return settings.CONTENT_SECURITY_POLICY_API_DOCS
    return settings.CONTENT_SECURITY_POLICY


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = policy_for(request, response)
        return response
