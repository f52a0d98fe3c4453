"""Facts about an HTTP request that more than one app needs."""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's address: when told to trust X-Forwarded-For (behind a proxy), its last
    entry, the one the proxy wrote; earlier entries come from the client and are forged at will
    (one per request would get around every limit). Else REMOTE_ADDR."""
    if settings.THROTTLE_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()[:64]
    return request.META.get("REMOTE_ADDR", "")[:64]
