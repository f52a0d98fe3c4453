"""The other kinds carry an alert's action links where their format has room for them."""

import pytest

from alerts.notify import alerts_pending_announce
from notifications.models import Channel
from notifications.services import deliveries_send_due
from tests.alerts.factories import AlertFactory
from tests.notifications.factories import ChannelFactory
from tests.notifications.provider_servers import Answer, ProviderServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def ntfy(settings):
    server = ProviderServer(Answer.json(200, {"id": "x1", "event": "message", "topic": "ops"}))
    settings.NTFY_URL = server.url
    yield server
    server.stop()


def test_it_gives_ntfy_a_view_button_per_action(ntfy):
    ChannelFactory(kind=Channel.Kind.NTFY, recipients="", destination="ops")
    alert = AlertFactory(title="Replica lag")
    alerts_pending_announce()
    deliveries_send_due()
    [request] = ntfy.requests
    actions = request["json"]["actions"]
    assert [a["label"] for a in actions] == ["Acknowledge", "Resolve", "Silence 1 h"]
    assert all(a["action"] == "view" and f"/alerts/act/{alert.pk}/" in a["url"] for a in actions)
    assert f"/alerts/act/{alert.pk}/acknowledge/" in request["json"]["message"]
