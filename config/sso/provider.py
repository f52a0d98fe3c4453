"""The identity provider as Vigil sees it: its discovery document and its signing keys, read over
HTTP with one bounded attempt each and kept in the shared cache, and the token exchange.

Every exchange has a socket timeout and a total deadline (OIDC_TIMEOUT; a provider that trickles
its answer is cut off too), reads at most MAX_ANSWER_BYTES, follows no redirect, and turns
whatever goes wrong (a refused connection, a timeout, a 5xx, an answer that is not the JSON it
should be) into ProviderError, which the views show as a 502 page. Nothing a failed attempt
returned is cached, so the next sign-in tries again.
"""

import base64
import hashlib
import ipaddress
from dataclasses import asdict, dataclass
from urllib.parse import quote_plus, urlsplit

import jwt
import requests
from django.conf import settings
from django.core.cache import cache

from core.deadline import deadline
from core.parsers import JSONBodyError, json_loads

MAX_ANSWER_BYTES = 256 * 1024  # a discovery document or a key set is a few kilobytes
USER_AGENT = "Vigil-SSO/1"


class ProviderError(Exception):
    """The provider could not be reached or answered with something unusable (a 502 to the user).
    The message names the provider's host and what went wrong, never a secret."""


class ProviderRefused(Exception):
    """The provider answered the token request with an OAuth error (a 400 to the user): the code
    was used already, has expired, or was not issued to this client."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str = ""
    # client_secret_basic is the default OpenID Connect asks every provider to support.
    token_auth_methods: tuple[str, ...] = ("client_secret_basic",)


def _cache_key(kind: str) -> str:
    digest = hashlib.sha256(settings.OIDC_ISSUER.encode()).hexdigest()[:16]
    return f"sso:{kind}:{digest}"


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "the provider"
    except ValueError:
        return "the provider"


def endpoint_allowed(url: object) -> bool:
    """An endpoint from the discovery document: https, or http on a loopback host only (as the
    issuer itself, config/env.py), so the discovery document cannot send the client secret or
    the user's browser anywhere in clear."""
    if not isinstance(url, str) or not url or len(url) > 2000:
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number in range)
    except ValueError:
        return False
    host = parts.hostname or ""
    if not host or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return False
    if parts.scheme == "https":
        return True
    try:
        return parts.scheme == "http" and (host == "localhost" or ipaddress.ip_address(host).is_loopback)
    except ValueError:
        return False


def _read(response: requests.Response) -> bytes:
    answer = bytearray()
    for chunk in response.iter_content(8192):
        answer += chunk
        if len(answer) > MAX_ANSWER_BYTES:
            raise ProviderError(f"{_host(response.url)} sent more than {MAX_ANSWER_BYTES // 1024} KB")
    return bytes(answer)


def exchange(method: str, url: str, *, data: dict | None = None, auth=None) -> tuple[int, object]:
    """(status, JSON document) of one request to the provider, within OIDC_TIMEOUT in all."""
    timeout = settings.OIDC_TIMEOUT
    host = _host(url)
    # A session of its own: a kept connection would not be under this exchange's deadline.
    with deadline(timeout) as limit, requests.Session() as session:
        try:
            with session.request(
                method,
                url,
                data=data,
                auth=auth,
                headers={
                    "Accept": "application/json",
                    "Accept-Encoding": "identity",
                    "User-Agent": USER_AGENT,
                },
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            ) as response:
                answer = _read(response)
                status = response.status_code
        except requests.RequestException as exc:
            late = limit.expired or isinstance(exc, requests.Timeout)
            what = "did not answer in time" if late else "could not be reached"
            raise ProviderError(f"{host} {what}") from None
        if limit.expired:
            raise ProviderError(f"{host} did not answer in time")
    try:
        document = json_loads(answer) if answer else None
    except JSONBodyError:
        document = None
    if status >= 500 or (200 <= status < 300 and not isinstance(document, dict)):
        raise ProviderError(f"{host} answered HTTP {status} without the JSON it should send")
    return status, document


def _discover() -> Provider:
    issuer = settings.OIDC_ISSUER
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    status, document = exchange("GET", url)
    if status != 200 or not isinstance(document, dict):
        raise ProviderError(f"{_host(url)} answered HTTP {status} for its discovery document")
    # OpenID Connect Discovery 4.3: the document must be the configured issuer's own, or tokens
    # signed for another issuer would pass.
    if document.get("issuer") != issuer:
        raise ProviderError(f"{_host(url)}'s discovery document names another issuer")
    endpoints = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not endpoint_allowed(document.get(name)):
            raise ProviderError(f"{_host(url)}'s discovery document has no usable {name}")
        endpoints[name] = document[name]
    end_session = document.get("end_session_endpoint")
    methods = document.get("token_endpoint_auth_methods_supported")
    if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
        methods = ["client_secret_basic"]
    return Provider(
        issuer=issuer,
        **endpoints,
        end_session_endpoint=end_session if endpoint_allowed(end_session) else "",
        token_auth_methods=tuple(methods),
    )


def provider() -> Provider:
    """The provider's endpoints, from its discovery document (cached OIDC_CACHE_SECONDS)."""
    key = _cache_key("discovery")
    cached = cache.get(key)
    if isinstance(cached, dict):
        try:
            return Provider(**{**cached, "token_auth_methods": tuple(cached["token_auth_methods"])})
        except (TypeError, KeyError):
            pass  # written by another version: read it again
    found = _discover()
    if settings.OIDC_CACHE_SECONDS:
        cache.set(key, asdict(found), settings.OIDC_CACHE_SECONDS)
    return found


def signing_keys(*, refresh: bool = False) -> dict:
    """The provider's key set as its JSON (cached OIDC_CACHE_SECONDS); refresh=True reads it again,
    for a token signed with a key the cached set does not have yet (the provider rotated)."""
    key = _cache_key("jwks")
    if not refresh:
        cached = cache.get(key)
        if isinstance(cached, dict):
            return cached
    url = provider().jwks_uri
    status, document = exchange("GET", url)
    if status != 200 or not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ProviderError(f"{_host(url)} answered HTTP {status} without a key set")
    try:
        jwt.PyJWKSet.from_dict(document)
    except (jwt.PyJWKSetError, jwt.InvalidKeyError, TypeError, ValueError):
        raise ProviderError(f"{_host(url)}'s key set holds no key Vigil can use") from None
    if settings.OIDC_CACHE_SECONDS:
        cache.set(key, document, settings.OIDC_CACHE_SECONDS)
    return document


def pkce_challenge(verifier: str) -> str:
    """RFC 7636's S256 challenge of a code verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_request(*, code: str, redirect_uri: str, code_verifier: str) -> str:
    """The ID token the provider gives for an authorization code (the raw JWT, not yet checked)."""
    found = provider()
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    auth = None
    if (
        "client_secret_basic" in found.token_auth_methods
        or "client_secret_post" not in found.token_auth_methods
    ):
        # RFC 6749 2.3.1: both are form-encoded before they are put in the Basic header, so a
        # secret with ":" or "%" in it reaches the provider intact.
        auth = (quote_plus(settings.OIDC_CLIENT_ID), quote_plus(settings.OIDC_CLIENT_SECRET))
    else:
        data.update(client_id=settings.OIDC_CLIENT_ID, client_secret=settings.OIDC_CLIENT_SECRET)
    status, document = exchange("POST", found.token_endpoint, data=data, auth=auth)
    error = document.get("error") if isinstance(document, dict) else None
    if status == 401 or error == "invalid_client":
        # Vigil's own registration is wrong, not the person's sign-in: nothing they can retry.
        raise ProviderError(
            f"{_host(found.token_endpoint)} refused Vigil's client credentials "
            "(an administrator must check OIDC_CLIENT_ID and OIDC_CLIENT_SECRET)"
        )
    if 400 <= status < 500:
        told = error if isinstance(error, str) and error.replace("_", "").isalpha() else f"HTTP {status}"
        raise ProviderRefused(f"The provider refused the sign-in ({told[:40]}).")
    token = document.get("id_token") if isinstance(document, dict) else None
    if status != 200 or not isinstance(token, str) or not token:
        raise ProviderError(f"{_host(found.token_endpoint)} answered the token request without an ID token")
    return token
