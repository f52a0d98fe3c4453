import pytest

from config.celery import app as celery_app
from config.env import SMTP_BACKEND
from tests.notifications.provider_servers import Answer, ProviderServer
from tests.notifications.servers import HttpReceiver, start_smtp
from tests.notifications.twilio_fakes import twilio  # noqa: F401 (a loopback Twilio)


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback offering pipelining, and the SMTP backend pointed at it."""
    controller, recorder = start_smtp()
    settings.EMAIL_BACKEND = SMTP_BACKEND
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield recorder
    controller.stop()


@pytest.fixture
def http_receiver(settings):
    settings.NOTIFICATIONS_HTTP_TIMEOUT = 0.5
    receiver = HttpReceiver(slow_seconds=1.5)
    yield receiver
    receiver.stop()


@pytest.fixture
def eager_celery():
    """Run tasks in-process, as a worker would, so on_commit dispatch can be followed end to end."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def ntfy(settings):
    """A loopback ntfy server, the push contact methods' server (NTFY_URL)."""
    server = ProviderServer(Answer.json(200, {"id": "x1", "event": "message"}))
    settings.NTFY_URL = server.url
    yield server
    server.stop()
