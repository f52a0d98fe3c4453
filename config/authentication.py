"""API token authentication that limits failed tokens per client address.

DRF checks throttles only after authentication, so a request with a wrong token is refused
(401) before any throttle counts it: token guessing would be limited by nothing but the network.
Here each failed token counts against the client's address (config/ratelimit.py); past
API_TOKEN_FAILURES_PER_IP in API_TOKEN_FAILURE_WINDOW, token requests from it get 429 with
Retry-After until the window ends, right or wrong token alike.
"""

from django.conf import settings
from rest_framework import authentication, exceptions

from config import ratelimit


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # no token: nothing to count (sessions and anonymous go on as usual)
        address = ratelimit.client_address(request)
        if ratelimit.exempt(address):
            return super().authenticate(request)
        key, window = f"api-token:{address}", settings.API_TOKEN_FAILURE_WINDOW
        if ratelimit.count(key, window=window) >= settings.API_TOKEN_FAILURES_PER_IP:
            raise exceptions.Throttled(
                wait=ratelimit.retry_after(window=window), detail="Too many failed token attempts."
            )
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            ratelimit.hit(key, window=window)
            raise
