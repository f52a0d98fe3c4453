"""Single sign-on with OpenID Connect for the console (docs/security.md#single-sign-on).

provider.py reads the provider (discovery, keys, the token exchange), id_token.py checks what it
signs, services.py turns the claims into a user with roles, views.py runs the round trip.
"""

from django.conf import settings

# request.session[AUTH_METHOD_KEY] is AUTH_METHOD for a session single sign-on opened; the
# two-factor check reads it (the provider asked for its own factors).
AUTH_METHOD_KEY = "vigil_auth_method"
AUTH_METHOD = "oidc"


def sso_enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def password_login_enabled() -> bool:
    """Whether the login page offers and accepts the password form (LOCAL_LOGIN): always when
    single sign-on is off, or nobody could log in."""
    return settings.LOCAL_LOGIN or not sso_enabled()
