import re

import pytest

from tests.notifications.servers import start_smtp


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback (aiosmtpd), and Django's SMTP backend pointed at it."""
    controller, recorder = start_smtp()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield recorder
    controller.stop()


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_URL = "http://testserver"


def link_in(mail, path: str) -> str:
    """The first link to `path` in the text part of a received mail, as a path for the test client."""
    text = mail.get_body(("plain",)).get_content()
    match = re.search(rf"http://testserver({re.escape(path)}[A-Za-z0-9_\-]+)", text)
    assert match, f"no {path} link in:\n{text}"
    return match.group(1)


@pytest.fixture
def receiver():
    from tests.subscribers.receivers import Receiver

    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def chat_hosts(settings):
    """Slack and Teams URLs may point at the loopback receivers."""
    settings.SUBSCRIBERS_SLACK_HOSTS = ["127.0.0.1"]
    settings.SUBSCRIBERS_TEAMS_HOSTS = ["127.0.0.1"]
