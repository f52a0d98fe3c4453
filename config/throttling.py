"""Throttling of the public endpoints, per client address, counted in the shared cache.

Loopback addresses are exempt by default (THROTTLE_EXEMPT_IPS): behind a proxy on the same
machine that does not pass X-Forwarded-For, every visitor would otherwise share one counter.

The public status JSON is plain Django (served from the page cache, no DRF on the hot path),
so DRF's throttles do not reach it: this middleware counts requests to the paths in
PUBLIC_THROTTLE_PATHS in fixed one-minute windows with one cache increment per request
(one atomic round trip on Redis: core.cache.count_in_window). Over the limit: 429 in the
API's error shape, with Retry-After. A cache that is down counts nothing (ResilientRedisCache
reads errors as misses): better to serve a surge than to refuse it. DRF views that allow
anonymous access are throttled by DRF's AnonRateThrottle (REST_FRAMEWORK settings) as well.
The counters are config/ratelimit.py's.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from config import ratelimit

WINDOW_SECONDS = 60


def _scope(path: str) -> tuple[str, int] | None:
    """The first matching prefix decides; an empty scope means "not throttled"."""
    for prefix, scope in settings.PUBLIC_THROTTLE_PATHS:
        if path.startswith(prefix):
            limit = settings.PUBLIC_THROTTLE_RATES.get(scope, 0) if scope else 0
            return (scope, limit) if limit else None
    return None


def throttled(path: str) -> bool:
    """Whether requests to `path` are counted at all (the API schema documents their 429)."""
    for prefix, scope in settings.PUBLIC_THROTTLE_PATHS:
        if path.startswith(prefix):
            return bool(scope)
    return False


class PublicThrottleMiddleware:
    def __init__(self, get_response: Callable):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        found = _scope(request.path)
        if found is not None:
            client = ratelimit.client_address(request)
            scope, limit = found
            over = (
                not ratelimit.exempt(client)
                and ratelimit.hit(f"{scope}:{client}", window=WINDOW_SECONDS) > limit
            )
            if over:
                wait = ratelimit.retry_after(window=WINDOW_SECONDS)
                response = JsonResponse(
                    {"detail": f"Request was throttled. Expected available in {wait} seconds."}, status=429
                )
                response["Retry-After"] = str(wait)
                return response
        return self.get_response(request)
