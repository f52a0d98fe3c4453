import pytest

from monitoring.timing import aggregator


@pytest.fixture(autouse=True)
def _empty_timing_aggregator():
    # Requests made by earlier tests leave figures in the process-wide aggregator.
    aggregator.take()
    yield
    aggregator.take()
