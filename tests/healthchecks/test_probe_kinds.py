"""Probe kinds against real servers on loopback: TCP ports, a DNS server, a TLS certificate;
and a component with several probes takes the worst of their verdicts."""

import socket
import threading
import time

import icmplib
import pytest
from django.utils import timezone

from alerts.models import Alert
from healthchecks.models import Probe, ProbeResult
from healthchecks.probes.kinds import ICMP_NOT_ALLOWED
from healthchecks.probes.services import probes_run_due
from monitoring.models import Metric
from statuspage.models import ComponentStatus
from tests.healthchecks.dns_server import DNSResponder
from tests.healthchecks.factories import ProbeFactory
from tests.healthchecks.servers import ProbeTarget, self_signed_certificate, silent_port
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now: a connect is refused
    return port


@pytest.fixture
def nameserver():
    server = DNSResponder(
        {
            ("app.test.", "A"): ["127.0.0.1", "127.0.0.2"],
            ("app.test.", "TXT"): ['"v=ok"'],
        }
    ).start()
    yield server
    server.stop()


@pytest.fixture
def tls_target(tmp_path):
    threads = threading.active_count()
    server = ProbeTarget(tls_cert=self_signed_certificate(tmp_path, days=30)).start()
    yield server
    server.stop()
    # A refused handshake leaves the server's handler thread finishing after the test; wait for
    # it, so the thread-counting tests after this one count only their own.
    deadline = time.monotonic() + 2
    while threading.active_count() > threads and time.monotonic() < deadline:
        time.sleep(0.02)


def tick():
    Probe.objects.update(next_due_at=timezone.now())
    return probes_run_due()


def probe_of(kind, component=None, **fields):
    component = component or ComponentFactory(health_check_url="")
    return ProbeFactory(
        component=component, kind=kind, failures_before_down=1, successes_before_up=1, **fields
    )


def last_result(probe) -> ProbeResult:
    return ProbeResult.objects.filter(probe=probe).first()


def test_it_finds_a_listening_tcp_port_up(listener):
    probe = probe_of(Probe.Kind.TCP, host="127.0.0.1", port=listener)
    tick()
    assert last_result(probe).ok


def test_it_finds_a_closed_tcp_port_down(closed_port):
    probe = probe_of(Probe.Kind.TCP, host="127.0.0.1", port=closed_port)
    tick()
    assert last_result(probe).error == "connection refused"
    probe.component.refresh_from_db()
    assert probe.component.status == ComponentStatus.MAJOR_OUTAGE


def test_it_fails_a_tcp_tls_handshake_with_an_untrusted_certificate(tls_target):
    probe = probe_of(Probe.Kind.TCP, host="127.0.0.1", port=tls_target.port, tls_handshake=True)
    tick()
    assert last_result(probe).error.startswith("TLS handshake failed")


def test_it_resolves_a_name_at_the_given_nameserver(nameserver):
    probe = probe_of(
        Probe.Kind.DNS,
        host="app.test",
        record_type="A",
        expected_values=["127.0.0.2"],
        nameserver="127.0.0.1",
        nameserver_port=nameserver.port,
    )
    tick()
    assert last_result(probe).ok
    assert nameserver.queries >= 1


def test_it_fails_a_dns_answer_without_the_expected_value(nameserver):
    probe = probe_of(
        Probe.Kind.DNS,
        host="app.test",
        record_type="TXT",
        expected_values=["v=other"],
        nameserver="127.0.0.1",
        nameserver_port=nameserver.port,
    )
    tick()
    assert last_result(probe).error == "TXT answer for app.test lacks v=other"


def test_it_fails_a_name_that_does_not_exist(nameserver):
    probe = probe_of(
        Probe.Kind.DNS, host="gone.test", nameserver="127.0.0.1", nameserver_port=nameserver.port
    )
    tick()
    assert last_result(probe).error == "gone.test does not exist (NXDOMAIN)"


def test_it_accepts_a_tls_certificate_for_the_host_and_records_its_expiry(tls_target):
    probe = probe_of(Probe.Kind.TLS, host="127.0.0.1", port=tls_target.port)
    tick()
    probe.refresh_from_db()
    assert last_result(probe).ok
    assert 29 <= probe.cert_days_left <= 30


def test_it_fails_a_tls_certificate_for_another_host(tls_target):
    probe = probe_of(Probe.Kind.TLS, host="localhost", port=tls_target.port)
    tick()
    assert last_result(probe).error == "certificate is not for localhost (it names 127.0.0.1)"


def test_it_takes_the_worst_of_a_components_probes(target, closed_port):
    component = ComponentFactory(health_check_url=target.url("/ok"))
    http = probe_of(Probe.Kind.HTTP, component=component)
    tcp = probe_of(Probe.Kind.TCP, component=component, host="127.0.0.1", port=closed_port)
    tick()
    assert (last_result(http).ok, last_result(tcp).ok) == (True, False)
    component.refresh_from_db()
    assert component.status == ComponentStatus.MAJOR_OUTAGE


def test_it_comes_back_up_only_when_every_probe_is_up(target, closed_port, listener):
    component = ComponentFactory(health_check_url=target.url("/ok"))
    probe_of(Probe.Kind.HTTP, component=component)
    tcp = probe_of(Probe.Kind.TCP, component=component, host="127.0.0.1", port=closed_port)
    tick()
    Probe.objects.filter(pk=tcp.pk).update(port=listener)
    tick()
    component.refresh_from_db()
    assert component.status == ComponentStatus.OPERATIONAL


def test_it_keeps_the_components_alert_open_while_another_probe_is_down(target, closed_port):
    component = ComponentFactory(health_check_url=target.url("/ok"))
    http = probe_of(Probe.Kind.HTTP, component=component)
    probe_of(Probe.Kind.TCP, component=component, host="127.0.0.1", port=closed_port)
    target.overrides["/ok"] = 500
    tick()
    del target.overrides["/ok"]
    tick()
    http.refresh_from_db()
    assert not http.is_down
    assert Alert.objects.open().filter(fingerprint=f"probe:{component.pk}").exists()


def test_it_ends_a_tls_handshake_that_never_comes_at_the_probes_timeout():
    sock, port = silent_port()
    probe = probe_of(Probe.Kind.TLS, host="127.0.0.1", port=port, timeout_seconds=0.5)
    started = time.monotonic()
    tick()
    sock.close()
    assert last_result(probe).error == "timed out after 0.5 s"
    assert time.monotonic() - started < 3


def test_it_ends_a_dns_query_nobody_answers_at_the_probes_timeout(closed_port):
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    probe = probe_of(
        Probe.Kind.DNS,
        host="app.test",
        nameserver="127.0.0.1",
        nameserver_port=silent.getsockname()[1],
        timeout_seconds=0.5,
    )
    started = time.monotonic()
    tick()
    silent.close()
    assert last_result(probe).error == "timed out after 0.5 s"
    assert time.monotonic() - started < 3


def test_it_pings_loopback():
    probe = probe_of(Probe.Kind.ICMP, host="127.0.0.1")
    tick()
    result = last_result(probe)
    assert result.ok, result.error
    assert result.latency_ms < 100


def test_it_says_how_to_allow_icmp_where_the_process_may_not(monkeypatch):
    # Whether this process may open ICMP sockets is the machine's setting, not the code's: the
    # kernel's refusal is what is stood in for here.
    def refused(*args, **kwargs):
        raise icmplib.SocketPermissionError(False)

    monkeypatch.setattr(icmplib, "ping", refused)
    probe = probe_of(Probe.Kind.ICMP, host="127.0.0.1")
    tick()
    assert last_result(probe).error == ICMP_NOT_ALLOWED


def test_it_names_the_tcp_target_in_the_alert_and_the_metrics(closed_port):
    probe = probe_of(Probe.Kind.TCP, host="127.0.0.1", port=closed_port)
    tick()
    alert = Alert.objects.get(fingerprint=f"probe:{probe.component_id}")
    assert alert.message == f"1 probes in a row failed for 127.0.0.1:{closed_port}: connection refused"
    assert Metric.objects.get(name="probe.up").endpoint == f"127.0.0.1:{closed_port}"
