"""API authentication: API keys and the older DRF tokens, counting failed keys per client address.

Both `Authorization: Bearer <key>` and `Token <key>` are accepted, the scheme in any case
(RFC 9110, section 11.1): Alertmanager and Prometheus send `Bearer`, DRF's clients `Token`. A key
that starts with `vgl_` is an API key (config/api_keys.py); anything else is looked up as a legacy
DRF token, which keeps working, with every scope, until it is deleted.

A key also holds the request to its scopes: outside them, a 403 that names the missing scope.

DRF checks throttles only after authentication, so a request with a wrong key is refused (401)
before any throttle counts it: key guessing would be limited by nothing but the network. Here each
failed key counts against the client's address (config/ratelimit.py); past
API_TOKEN_FAILURES_PER_IP in API_TOKEN_FAILURE_WINDOW, key requests from it get 429 with
Retry-After until the window ends, right or wrong key alike.
"""

from django.conf import settings
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from config import api_keys, ratelimit
from config.models import ApiKey

SCHEMES = (b"bearer", b"token")


def credential_user(raw: str, *, address: str | None):
    """(user, auth) for a presented key or legacy token; AuthenticationFailed saying why."""
    if raw.startswith(api_keys.KEY_PREFIX):
        try:
            key = api_keys.api_key_authenticate(raw, address=address)
        except api_keys.KeyRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused)) from None
        return key.user, key
    token = Token.objects.select_related("user").filter(key=raw).first()
    if token is None or not token.user.is_active:
        raise exceptions.AuthenticationFailed("Invalid token.")
    return token.user, token


class KeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in SCHEMES:
            return None  # no key: nothing to count (sessions and anonymous go on as usual)
        address = ratelimit.client_address(request)
        if ratelimit.exempt(address):
            return self._check(request, header, address)
        counter, window = f"api-token:{address}", settings.API_TOKEN_FAILURE_WINDOW
        if ratelimit.count(counter, window=window) >= settings.API_TOKEN_FAILURES_PER_IP:
            raise exceptions.Throttled(
                wait=ratelimit.retry_after(window=window), detail="Too many failed token attempts."
            )
        try:
            return self._check(request, header, address)
        except exceptions.AuthenticationFailed:
            ratelimit.hit(counter, window=window)
            raise

    def _check(self, request, header: list[bytes], address: str | None):
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: give the scheme and the key, separated by one space."
            )
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token: a key is plain ASCII.") from None
        user, auth = credential_user(raw, address=address)
        if isinstance(auth, ApiKey):
            # Checked here rather than in a permission class, so that every API view, whatever
            # permissions it declares, holds a key to its scopes.
            refusal = api_keys.scope_refusal(auth, request.path, request.method)
            if refusal:
                raise exceptions.PermissionDenied(refusal)
        return user, auth

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
