from datetime import UTC, datetime

import pytest
import time_machine

from statuspage.services import component_set_status


def at(text: str) -> datetime:
    """'2026-02-10 06:00' in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def set_status(component, status: str, when: str) -> None:
    """The status change as the probes or staff make it: through the service, at that time."""
    with time_machine.travel(at(when), tick=False):
        component_set_status(component=component, status=status, at=at(when))
        component.refresh_from_db()


@pytest.fixture
def clock():
    """Frozen time that a test moves by hand: clock.move_to('2026-03-01 00:00')."""
    with time_machine.travel(at("2026-01-01 00:00"), tick=False) as traveller:

        class Clock:
            def move_to(self, when: str) -> datetime:
                traveller.move_to(at(when))
                return at(when)

        yield Clock()
