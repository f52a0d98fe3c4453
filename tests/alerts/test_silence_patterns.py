"""Silence patterns an operator types cannot stall alerting, and built-in labels stay the alert's."""

import signal
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert, Silence
from alerts.services import alert_raise
from tests.alerts.factories import SilenceFactory

pytestmark = pytest.mark.django_db

# Exponential for a backtracking engine: 4**n ways to consume n characters before failing on X.
CATASTROPHIC = "(.|.|.|.)*X"


def _silence_body(value: str, op: str = "=~", label: str = "alertname") -> dict:
    return {"matchers": [{"label": label, "op": op, "value": value}], "ends_at": "2099-01-01T00:00:00Z"}


class TookTooLong(Exception):
    pass


def _within(seconds: int, work) -> float:
    """Run `work`, failing if it is not done in `seconds` (the regex engine honours the alarm)."""

    def give_up(signum, frame):
        raise TookTooLong(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(seconds)
    started = time.perf_counter()
    try:
        work()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return time.perf_counter() - started


def test_a_catastrophic_pattern_is_matched_in_linear_time(api):
    assert api.post("/api/operations/silences", _silence_body(CATASTROPHIC), format="json").status_code == 201
    silence = Silence.objects.get()
    long_title = "a" * 5000
    took = _within(5, lambda: silence.matches({"alertname": long_title}))
    assert took < 0.5
    assert silence.matches({"alertname": "aaaX"}) and not silence.matches({"alertname": long_title})


def test_a_manual_alert_is_raised_at_once_while_a_catastrophic_silence_is_active(api):
    SilenceFactory(matchers=[{"label": "alertname", "op": "=~", "value": CATASTROPHIC}])
    body = {"title": "b" * 280, "severity": "high", "fingerprint": "checkout"}
    responses = []
    _within(5, lambda: responses.append(api.post("/api/operations/alerts", body, format="json")))
    assert responses[0].status_code == 201
    assert Alert.objects.get().suppressed_reason == ""


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [(r"(a+)\1", "back-references"), ("(?=a)b", "look-around"), ("((a{100}){100}){100}", "RE2")],
)
def test_a_pattern_that_needs_backtracking_or_too_much_memory_is_refused_at_save(api, pattern, reason):
    response = api.post("/api/operations/silences", _silence_body(pattern), format="json")
    assert response.status_code == 400
    message = str(response.json()["errors"])
    assert "Not a usable regular expression" in message and reason in message
    assert not Silence.objects.exists()


def test_the_admin_refuses_such_a_pattern_with_a_form_error(admin_client_):
    form = {
        "matchers": '[{"label": "alertname", "op": "=~", "value": "(a+)\\\\1"}]',
        "starts_at_0": "2026-01-01",
        "starts_at_1": "00:00:00",
        "ends_at_0": "2099-01-01",
        "ends_at_1": "00:00:00",
        "comment": "",
    }
    response = admin_client_.post("/admin/alerts/silence/add/", form)
    assert response.status_code == 200
    assert "Not a usable regular expression" in response.content.decode()
    assert not Silence.objects.exists()
    form["matchers"] = '[{"label": "alertname", "op": "=~", "value": "disk.*"}]'
    assert admin_client_.post("/admin/alerts/silence/add/", form).status_code == 302
    assert Silence.objects.count() == 1


def test_a_stored_pattern_that_cannot_be_used_silences_nothing():
    SilenceFactory(matchers=[{"label": "alertname", "op": "=~", "value": r"(a)\1"}])
    raised = alert_raise(fingerprint="x", title="aa", severity="high")
    assert raised.alert.suppressed_reason == ""


def test_silences_are_matched_before_the_alert_row_is_locked():
    SilenceFactory(matchers=[{"label": "alertname", "op": "=", "value": "disk full"}])
    with CaptureQueriesContext(connection) as queries:
        raised = alert_raise(fingerprint="disk", title="disk full", severity="high")
    assert raised.alert.suppressed_reason.startswith("silenced")
    statements = [query["sql"] for query in queries.captured_queries]
    silence_query = next(i for i, sql in enumerate(statements) if "alerts_silence" in sql)
    first_alert_query = next(i for i, sql in enumerate(statements) if 'FROM "alerts_alert"' in sql)
    assert silence_query < first_alert_query


@pytest.mark.parametrize("label", ["alertname", "severity", "fingerprint"])
def test_a_manual_alert_cannot_override_the_built_in_labels(api, label):
    body = {"title": "Payments down", "severity": "critical", "labels": {label: "quiet", "team": "pay"}}
    response = api.post("/api/operations/alerts", body, format="json")
    assert response.status_code == 400
    assert "labels" in response.json()["errors"]
    assert not Alert.objects.exists()


def test_built_in_labels_win_over_labels_written_around_the_api():
    SilenceFactory(matchers=[{"label": "severity", "op": "=", "value": "low"}])
    raised = alert_raise(
        fingerprint="p", title="Payments down", severity="critical", labels={"severity": "low"}
    )
    assert raised.alert.suppressed_reason == ""


def test_an_alertmanager_alert_keeps_its_own_alertname_and_severity_words(api):
    SilenceFactory(matchers=[{"label": "severity", "op": "=", "value": "warning"}])
    payload = {
        "version": "4",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "HighLatency", "severity": "warning"},
                "annotations": {"summary": "Latency high"},
                "startsAt": "2026-03-02T12:00:00Z",
                "fingerprint": "f1",
            }
        ],
    }
    api.post("/api/operations/integrations/alertmanager", payload, format="json")
    assert Alert.objects.get().suppressed_reason.startswith("silenced")
