"""Running probes against real servers on loopback (no database involved)."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from healthchecks.probes import tls
from healthchecks.probes.http import ProbeSpec, execute, execute_all, json_lookup, make_session
from tests.healthchecks.servers import ProbeTarget, self_signed_certificate, silent_port


def run(url: str, **options):
    return execute(ProbeSpec(probe_id=1, url=url, **{"timeout": 2.0, **options}), make_session(2))


def test_it_passes_a_healthy_endpoint(target):
    outcome = run(target.url("/ok"))
    assert (outcome.ok, outcome.slow, outcome.status_code, outcome.error) == (True, False, 200, "")
    assert outcome.latency_ms > 0


def test_it_fails_on_a_500(target):
    outcome = run(target.url("/fail"))
    assert not outcome.ok
    assert outcome.status_code == 500
    assert outcome.error == "HTTP 500, expected 200"


def test_it_accepts_the_expected_status_codes(target):
    assert run(target.url("/fail"), expected_status_codes=(200, 500)).ok


def test_it_marks_a_slow_answer_degraded(target):
    outcome = run(target.url("/slow"), degraded_latency_ms=100)
    assert outcome.ok and outcome.slow
    assert outcome.latency_ms >= 300


def test_it_times_out_a_hung_endpoint():
    sock, port = silent_port()
    try:
        started = time.monotonic()
        outcome = run(f"http://127.0.0.1:{port}/", timeout=0.5)
        assert time.monotonic() - started < 2
    finally:
        sock.close()
    assert not outcome.ok
    assert outcome.error == "timed out after 0.5 s"


def test_it_reports_a_refused_connection(closed_port):
    outcome = run(f"http://127.0.0.1:{closed_port}/")
    assert not outcome.ok
    assert outcome.status_code is None
    assert outcome.error == "connection refused"


def test_it_fails_when_the_keyword_is_missing(target):
    assert run(target.url("/text"), keyword="hello").ok
    outcome = run(target.url("/text"), keyword="goodbye")
    assert not outcome.ok
    assert outcome.error == "keyword 'goodbye' not found in the response"


def test_it_checks_a_json_field_exists_and_equals(target):
    assert run(target.url("/ok"), json_path="checks.database.up").ok
    assert run(target.url("/ok"), json_path="status", json_value="ok").ok
    assert run(target.url("/ok"), json_path="checks.database.up", json_value="true").ok
    missing = run(target.url("/ok"), json_path="checks.cache")
    assert missing.error == "JSON field 'checks.cache' missing"
    wrong = run(target.url("/ok"), json_path="status", json_value="green")
    assert wrong.error == "JSON field 'status' does not have the expected value"
    assert run(target.url("/text"), json_path="status").error == "response is not JSON"


def test_it_never_shows_the_value_a_json_field_held(target):
    target.overrides["/ok"] = 200  # answers {"status": "broken"}
    outcome = run(target.url("/ok"), json_path="status", json_value="internal-db-password")
    assert not outcome.ok
    assert "broken" not in outcome.error
    assert outcome.error == "JSON field 'status' does not have the expected value"


def test_it_walks_lists_in_a_json_path():
    assert json_lookup({"items": [{"ok": 1}]}, "items.0.ok") == 1
    assert json_lookup({"items": []}, "items.0") is not None  # the "missing" marker, not a value
    assert json_lookup({"items": []}, "items.0") is json_lookup({}, "x")


def test_it_probes_with_head_and_post(target):
    assert run(target.url("/ok"), method="HEAD").ok
    assert run(target.url("/ok"), method="POST").ok


def test_it_refuses_urls_that_are_not_http():
    outcome = run("ftp://127.0.0.1/file")
    assert not outcome.ok
    assert outcome.error == "only http and https URLs are probed"


def test_it_lets_no_hung_endpoint_delay_the_others(target):
    sock, port = silent_port()
    specs = [ProbeSpec(probe_id=i, url=target.url("/ok"), timeout=2.0) for i in range(40)]
    specs.append(ProbeSpec(probe_id=99, url=f"http://127.0.0.1:{port}/", timeout=1.0))
    try:
        started = time.monotonic()
        outcomes = execute_all(specs, concurrency=8, round_deadline=10)
        elapsed = time.monotonic() - started
    finally:
        sock.close()
    assert elapsed < 3.5  # the hung one costs its 1 s timeout, not the round
    assert sum(o.ok for o in outcomes) == 40
    assert [o.error for o in outcomes if o.probe_id == 99] == ["timed out after 1 s"]


def test_it_gives_up_on_a_probe_still_running_at_the_round_deadline(target):
    target.slow_seconds = 2
    outcomes = execute_all(
        [ProbeSpec(probe_id=7, url=target.url("/slow"), timeout=5)], concurrency=2, round_deadline=0.5
    )
    assert outcomes[0].error == "not finished within the round deadline of 0.5 s"


def test_it_reads_the_certificate_expiry(tmp_path):
    cert, key = self_signed_certificate(tmp_path, days=10)
    server = ProbeTarget(tls_cert=(cert, key)).start()
    try:
        outcome = run(server.url("/ok"), check_certificate=True)
    finally:
        server.stop()
    # Self-signed: the request itself fails verification, the expiry is read all the same.
    assert not outcome.ok
    assert "certificate" in outcome.error.lower() or "ssl" in outcome.error.lower()
    assert outcome.cert_checked
    expected = datetime.now(UTC) + timedelta(days=10)
    assert abs((outcome.cert_expires_at - expected).total_seconds()) < 300


def test_it_reports_a_server_without_tls_as_a_certificate_error(target):
    with pytest.raises(tls.CertificateError):
        tls.certificate_expiry("127.0.0.1", target.port, timeout=1)
