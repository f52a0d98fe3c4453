"""A small OpenID Connect provider on loopback, for the single sign-on tests: discovery, a key set,
/authorize that sends the browser straight back with a code (nobody types a password here),
/token that checks the client secret, the code and the PKCE verifier and answers with an ID
token signed by an RSA key made with `cryptography`, and /logout (end_session_endpoint).

Switches, set on the provider between requests:
- `person`: the claims of whoever signs in next (sub, preferred_username, email, groups);
- `sign_with_wrong_key`: sign with a key the key set does not publish (same kid);
- `expired`: issue a token whose exp has passed; `audience`: issue it to another client;
- `rotate()`: a new signing key with a new kid, published in place of the old one;
- `stall[path] = seconds`: wait that long before answering `path`;
- `junk[path] = (status, body)`: answer `path` with that instead.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "vigil-test-client"
CLIENT_SECRET = "a-client-secret-for-the-tests-only"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class SigningKey:
    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)

    def jwk(self) -> dict:
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _b64(numbers.n),
            "e": _b64(numbers.e),
        }


class OidcProvider:
    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.provider = self
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.key = SigningKey()
        self.published = [self.key]
        self.person = {
            "sub": "u-1001",
            "preferred_username": "alice",
            "email": "alice@example.com",
            "groups": ["vigil-ops"],
        }
        self.sign_with_wrong_key = False
        self.expired = False
        self.audience = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.stall: dict[str, float] = {}
        self.junk: dict[str, tuple[int, bytes]] = {}
        self.codes: dict[str, dict] = {}
        self.requests: list[str] = []  # the paths asked for, in order
        self.logouts: list[dict] = []
        self.released = threading.Event()  # ends every stall at shutdown
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "OidcProvider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def rotate(self) -> None:
        self.key = SigningKey()
        self.published = [self.key]

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
        }

    def authorize(self, query: dict) -> str:
        """Where /authorize sends the browser: back to redirect_uri with a code and the state."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**query, "person": dict(self.person), "used": False}
        separator = "&" if "?" in query["redirect_uri"] else "?"
        return (
            f"{query['redirect_uri']}{separator}{urlencode({'code': code, 'state': query.get('state', '')})}"
        )

    def id_token(self, grant: dict) -> str:
        now = int(time.time())
        claims = {
            **grant["person"],
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now - (7200 if self.expired else 0),
            "exp": now - 3600 if self.expired else now + 300,
            "nonce": grant.get("nonce", ""),
        }
        key = SigningKey() if self.sign_with_wrong_key else self.key
        return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": self.key.kid})

    def token(self, form: dict, authorization: str) -> tuple[int, dict]:
        # RFC 6749 2.3.1: the id and the secret are form-encoded inside the Basic credentials.
        scheme, _, credentials = authorization.partition(" ")
        try:
            user, _, password = base64.b64decode(credentials).decode().partition(":")
        except ValueError:
            user = password = ""
        if scheme != "Basic" or (unquote_plus(user), unquote_plus(password)) != (
            CLIENT_ID,
            self.client_secret,
        ):
            return 401, {"error": "invalid_client"}
        grant = self.codes.get(form.get("code", ""))
        if form.get("grant_type") != "authorization_code" or grant is None or grant["used"]:
            return 400, {"error": "invalid_grant"}
        grant["used"] = True
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if grant.get("code_challenge_method") != "S256" or challenge != grant.get("code_challenge"):
            return 400, {"error": "invalid_grant"}
        return 200, {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "id_token": self.id_token(grant),
        }


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def _answer(self, status: int, body: bytes, content_type: str = "application/json", headers=None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, document: dict) -> None:
        self._answer(status, json.dumps(document).encode())

    def _handle(self, form: dict) -> None:
        provider: OidcProvider = self.server.provider
        parts = urlsplit(self.path)
        path = parts.path
        provider.requests.append(path)
        if path in provider.stall:
            provider.released.wait(provider.stall[path])
        if path in provider.junk:
            status, body = provider.junk[path]
            self._answer(status, body, "text/html")
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if path == "/.well-known/openid-configuration":
            self._json(200, provider.discovery())
        elif path == "/jwks":
            self._json(200, {"keys": [key.jwk() for key in provider.published]})
        elif path == "/authorize":
            self._answer(302, b"", headers={"Location": provider.authorize(query)})
        elif path == "/token" and self.command == "POST":
            self._json(*provider.token(form, self.headers.get("Authorization", "")))
        elif path == "/logout":
            provider.logouts.append(query)
            self._answer(302, b"", headers={"Location": query.get("post_logout_redirect_uri", "/")})
        else:
            self._json(404, {"error": "not_found"})

    def do_GET(self) -> None:
        self._handle({})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        self._handle({k: v[0] for k, v in parse_qs(body).items()})


@pytest.fixture
def oidc_provider():
    provider = OidcProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def sso(settings, oidc_provider):
    """Single sign-on on, against the loopback provider."""
    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_ROLE_MAP = {
        "vigil-admins": ("Administrators",),
        "vigil-ops": ("Operators",),
        "staff": ("Viewers",),
    }
    settings.OIDC_TIMEOUT = 1
    return oidc_provider
