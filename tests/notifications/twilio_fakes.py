"""A loopback Twilio: Messages.json and Calls.json in the shapes Twilio documents (201 with the
resource, errors as {code, message, more_info, status}), and a Twilio channel for it."""

import pytest

from notifications.models import Channel
from tests.notifications.factories import ChannelFactory
from tests.notifications.provider_servers import Answer, ProviderServer

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f" * 16 + "0123456789abcdef"
FROM_NUMBER = "+14155550100"
ON_CALL = "+14155550111"


def created(sid: str = "SM" + "1" * 32) -> Answer:
    return Answer.json(201, {"sid": sid, "account_sid": ACCOUNT_SID, "status": "queued"})


def twilio_error(status: int, code: int, message: str, **headers: str) -> Answer:
    body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}"}
    return Answer.json(status, {**body, "status": status}, **headers)


@pytest.fixture
def twilio(settings):
    server = ProviderServer(created())
    settings.TWILIO_API_URL = server.url
    yield server
    server.stop()


def twilio_channel(kind: str = Channel.Kind.SMS, **fields) -> Channel:
    arguments = {
        "kind": kind,
        "recipients": ON_CALL,
        "account_sid": ACCOUNT_SID,
        "token": AUTH_TOKEN,
        "from_number": FROM_NUMBER,
        **fields,
    }
    channel = ChannelFactory(**arguments)
    channel.full_clean()
    return channel
