"""Two-factor sign-in for the admin: TOTP apps, security keys and passkeys (WebAuthn), and
recovery codes.

After a correct password, a user who has a TOTP device or a security key is not signed in yet:
the session holds a pending sign-in (login.py) until the second step passes (views.py), and only
then does Django's login() run. How a session signed in is kept under AUTH_METHOD, and the
middleware treats a signed-in session that lacks a second step it should have had as signed out.
Single sign-on sessions ("oidc") count as strong already.
"""

# The session key saying how this session signed in.
AUTH_METHOD = "vigil_auth_method"
PASSWORD = "password"
PASSWORD_TOTP = "password+totp"
PASSWORD_WEBAUTHN = "password+webauthn"
PASSWORD_RECOVERY = "password+recovery"
SSO = "oidc"
STRONG_METHODS = frozenset({PASSWORD_TOTP, PASSWORD_WEBAUTHN, PASSWORD_RECOVERY, SSO})
