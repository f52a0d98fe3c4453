"""An endpoint that answers one byte per second: the probe's timeout bounds the whole exchange,
the round does not wait for it, and nothing it held (threads, sockets) outlives the round."""

import time

import psutil
import pytest
from django.utils import timezone

from healthchecks.models import Probe, ProbeResult
from healthchecks.probes.http import ProbeSpec, execute, execute_all, make_session
from healthchecks.probes.services import probes_run_due
from tests.healthchecks.factories import ProbeFactory
from tests.healthchecks.trickle import TricklingTarget


@pytest.fixture(scope="module")
def trickle():
    with TricklingTarget() as server:
        yield server


def round_of(trickle, path: str) -> list[ProbeSpec]:
    return [
        ProbeSpec(probe_id=1, url=trickle.url("/ok"), timeout=2.0),
        ProbeSpec(probe_id=2, url=trickle.url(path), timeout=2.0),
    ]


@pytest.mark.parametrize("path", ["/headers", "/body"])
def test_it_ends_a_trickling_probe_at_its_timeout(trickle, path):
    started = time.monotonic()
    healthy, trickling = execute_all(round_of(trickle, path), concurrency=4, round_deadline=30)
    assert time.monotonic() - started < 3.5  # its 2 s timeout, not the 30 s round
    assert healthy.ok
    assert (trickling.ok, trickling.error) == (False, "timed out after 2 s")


def test_it_ends_a_single_trickling_probe_at_its_timeout(trickle):
    started = time.monotonic()
    outcome = execute(ProbeSpec(probe_id=1, url=trickle.url("/body"), timeout=1.5), make_session(1))
    assert time.monotonic() - started < 3
    assert outcome.error == "timed out after 1.5 s"


def test_it_cuts_off_probes_still_running_at_the_round_deadline(trickle):
    started = time.monotonic()
    spec = ProbeSpec(probe_id=7, url=trickle.url("/body"), timeout=10)
    (outcome,) = execute_all([spec], concurrency=2, round_deadline=0.5)
    assert time.monotonic() - started < 2
    assert outcome.error == "not finished within the round deadline of 0.5 s"


def test_it_leaves_no_thread_or_socket_behind_after_rounds_with_a_trickling_target(trickle):
    process = psutil.Process()
    execute_all(round_of(trickle, "/headers"), concurrency=4, round_deadline=30)  # warm up (imports)
    threads, files = process.num_threads(), process.num_fds()
    for path in ["/headers", "/body"] * 3:
        execute_all(round_of(trickle, path), concurrency=4, round_deadline=30)
    left = settled(process, (threads, files))
    # None more than before; fewer is fine (a thread of the test process's own may end meanwhile).
    assert left[0] <= threads and left[1] <= files, (left, (threads, files))


def settled(process: psutil.Process, expected: tuple[int, int]) -> tuple[int, int]:
    """(threads, descriptors), given a moment: a joined thread leaves the OS just after join()."""
    for _ in range(20):
        counts = (process.num_threads(), process.num_fds())
        if counts[0] <= expected[0] and counts[1] <= expected[1]:
            break
        time.sleep(0.05)
    return counts


@pytest.mark.django_db
def test_it_records_the_healthy_probe_of_a_round_with_a_trickling_one_promptly(trickle):
    healthy = ProbeFactory(component__health_check_url=trickle.url("/ok"), timeout_seconds=2.0)
    ProbeFactory(component__health_check_url=trickle.url("/headers"), timeout_seconds=2.0)
    Probe.objects.update(next_due_at=timezone.now())
    started = time.monotonic()
    summary = probes_run_due()
    assert time.monotonic() - started < 4.5  # the round's deadline would be HEALTH_CHECK_INTERVAL (30 s)
    assert (summary.ok, summary.failed) == (1, 1)
    assert ProbeResult.objects.get(probe=healthy).ok
