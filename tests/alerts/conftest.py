from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from alerts.evaluation import evaluate_rules
from tests.alerts.factories import point
from tests.notifications.conftest import eager_celery, http_receiver, smtp  # noqa: F401  (shared fixtures)
from tests.notifications.twilio_fakes import twilio  # noqa: F401 (a loopback Twilio)

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class Scenario:
    """promtool-style: feed a series at given minutes, evaluate, assert state at given minutes."""

    def __init__(self, traveller):
        self.traveller = traveller
        self.now = START

    def at(self, minute: float, value: float | None = None, **fields):
        self.now = START + timedelta(minutes=minute)
        self.traveller.move_to(self.now)
        if value is not None:
            point(value, at=self.now, **fields)
        return evaluate_rules(now=self.now)


@pytest.fixture
def scenario():
    with time_machine.travel(START, tick=False) as traveller:
        yield Scenario(traveller)
