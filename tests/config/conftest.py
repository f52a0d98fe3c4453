# The loopback identity provider and single sign-on switched on against it (tests/config/oidc_provider.py).
from tests.config.oidc_provider import oidc_provider, sso  # noqa: F401
