"""Every URL the project serves, as OpenAPI-style paths ("/api/status/incidents/{pk}"), read
from the URL resolver: the schema hook and the tests use it, so a new endpoint is covered
without a list to update."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def _openapi(route: str) -> str:
    """One route segment as OpenAPI: <int:pk> and (?P<pk>...) become {pk}, anchors go."""
    route = _GROUP.sub(r"{\1}", route).lstrip("^").rstrip("$")
    return _CONVERTER.sub(r"{\1}", route).replace("\\.", ".")


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        route = _openapi(str(entry.pattern))
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield prefix + route, entry


def url_patterns() -> list[tuple[str, URLPattern]]:
    """(OpenAPI path, pattern) for every route, regex routes (the admin's) as they are."""
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        found.append(("/" + route, pattern))
    return found


def served_paths() -> set[str]:
    return {path for path, _ in url_patterns()}


def api_paths() -> list[tuple[str, URLPattern]]:
    """The API and health routes (not the admin, not the HTML status pages or feeds)."""
    return [
        (path, pattern)
        for path, pattern in url_patterns()
        if path.startswith(("/api/", "/health")) or path == "/metrics"
    ]
