import pytest

from tests.healthchecks.servers import ProbeTarget


@pytest.fixture
def target():
    server = ProbeTarget(slow_seconds=0.3).start()
    yield server
    server.stop()
