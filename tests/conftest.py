import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache

ROOT = Path(__file__).resolve().parent.parent
# The suite's webhook receivers listen on loopback, which production refuses by default
# (core/outbound.py). Set for the subprocesses (workers) the tests start; the fixture
# below sets it for this process, whose settings were read before this file.
LOOPBACK = ["127.0.0.0/8", "::1/128"]
os.environ.setdefault("WEBHOOK_ALLOWED_NETWORKS", ",".join(LOOPBACK))
# Variables that pick the service mode; a subprocess that must run embedded drops them.
SERVICE_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")


@pytest.fixture(autouse=True)
def _loopback_webhooks(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = LOOPBACK


@pytest.fixture(autouse=True)
def _pings_unbuffered(settings):
    """Tests read a check's state right after its ping; the ping buffer's own tests (and the
    benchmark) turn it on and flush it themselves."""
    settings.PING_BUFFER = False


@pytest.fixture(autouse=True)
def _clear_cache():
    from statuspage import cache as page_cache

    cache.clear()
    # The status page's per-process layer outlives a test (and serves live-server threads too).
    page_cache._local.generation = None
    page_cache._local.pages = {}
    yield


@pytest.fixture
def media(settings, tmp_path):
    """Uploads (the status page's logo and favicon) go to a folder of this test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_manage(*args: str, env: dict | None = None, embedded: bool = False, timeout: float = 60):
    """Run manage.py in a fresh process: settings are read at start-up, so that is where
    environment-dependent behaviour shows."""
    base = {k: v for k, v in os.environ.items() if not (embedded and k in SERVICE_VARIABLES)}
    base.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # a subprocess runs as a deployment would
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


@pytest.fixture
def staff_user(django_user_model):
    """A staff member in the Administrators role: the API checks model permissions (roles)."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("staff", "staff@example.com", "pw-staff-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Administrators"))
    return user


@pytest.fixture
def staff_token(staff_user):
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=staff_user).key


@pytest.fixture
def api(staff_user):
    """The API as an Administrator."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(staff_user)
    return client


@pytest.fixture
def admin_client_(client, django_user_model):
    """The admin as a superuser."""
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-12345")
    client.force_login(user)
    return client
