"""Loopback stand-ins for PagerDuty's Events API v2 and Opsgenie's Alerts API, answering in
their documented shapes (the ProviderServer records every request; tests queue other answers)."""

from tests.notifications.provider_servers import Answer, ProviderServer

ROUTING_KEY = "R0UTINGKEY0123456789abcdefABCDEF"
GENIE_KEY = "1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718"

# POST /v2/enqueue accepted: the event is queued and the dedup_key it went under is returned.
PAGERDUTY_ACCEPTED = Answer.json(
    202, {"status": "success", "message": "Event processed", "dedup_key": "from-the-request"}
)
PAGERDUTY_INVALID = {
    "status": "invalid event",
    "message": "Event object is invalid",
    "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"],
}
# Every Alerts API write is asynchronous: 202 and a request id to look the outcome up by.
OPSGENIE_ACCEPTED = Answer.json(
    202, {"result": "Request will be processed", "took": 0.302, "requestId": "43a29c5c-3dbf-4fa4-9c26"}
)
OPSGENIE_BAD_KEY = {"message": "Key format is not valid!", "took": 0.001, "requestId": "0a7a2f7d-1b2c"}


def pagerduty_server() -> ProviderServer:
    return ProviderServer(PAGERDUTY_ACCEPTED)


def opsgenie_server() -> ProviderServer:
    return ProviderServer(OPSGENIE_ACCEPTED)
