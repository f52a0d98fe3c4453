import pytest
from rest_framework.test import APIClient

from alerts.models import Alert, AlertRule, Silence
from alerts.services import alert_resolve
from tests.alerts.factories import AlertFactory, AlertRuleFactory, ChannelFactory

pytestmark = pytest.mark.django_db

RULE = {
    "name": "API latency",
    "metric_name": "http.response_time",
    "aggregation": "p95",
    "operator": ">",
    "threshold": 800,
    "window_minutes": 5,
    "duration_minutes": 2,
    "severity": "high",
}


def test_it_creates_a_rule_with_escalation_steps(api):
    channel = ChannelFactory()
    body = {
        **RULE,
        "escalation_steps": [{"level": 1, "escalate_after_minutes": 10, "channels": [channel.pk]}],
    }
    response = api.post("/api/operations/alert-rules", body, format="json")
    assert response.status_code == 201, response.json()
    rule = AlertRule.objects.get(name="API latency")
    assert rule.escalation_policy.steps.get().channels.get() == channel


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"operator": "=>"}, "operator"),
        ({"aggregation": "median"}, "aggregation"),
        ({"threshold": "lots"}, "threshold"),
        ({"metric_name": ""}, "metric_name"),
        ({"window_minutes": 0}, "window_minutes"),
        ({"severity": "urgent"}, "severity"),
        ({"runbook_url": "not a url"}, "runbook_url"),
        ({"tags": ["a"]}, "tags"),
    ],
)
def test_it_refuses_an_invalid_rule_naming_the_field(api, change, field):
    response = api.post("/api/operations/alert-rules", {**RULE, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not AlertRule.objects.filter(name=RULE["name"]).exists()


def test_it_updates_and_deletes_a_rule(api):
    rule = AlertRuleFactory()
    response = api.put(f"/api/operations/alert-rules/{rule.pk}", {**RULE, "threshold": 5}, format="json")
    assert response.status_code == 200
    assert api.delete(f"/api/operations/alert-rules/{rule.pk}").status_code == 204
    assert not AlertRule.objects.filter(pk=rule.pk).exists()


def test_it_lists_alerts_with_filters(api):
    AlertFactory(severity="critical")
    AlertFactory(severity="low")
    response = api.get("/api/operations/alerts", {"severity": "critical"})
    assert [a["severity"] for a in response.json()["results"]] == ["critical"]


def test_it_acknowledges_and_resolves_through_the_api(api, staff_user):
    alert = AlertFactory()
    response = api.post(f"/api/operations/alerts/{alert.pk}/acknowledge", {"note": "mine"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "acknowledged"
    response = api.post(
        f"/api/operations/alerts/{alert.pk}/resolve", {"action_taken": "restarted"}, format="json"
    )
    assert response.json()["status"] == "resolved"
    assert Alert.objects.get().resolved_by == staff_user


def test_it_answers_409_to_an_illegal_transition(api):
    alert = alert_resolve(alert=AlertFactory())
    response = api.post(f"/api/operations/alerts/{alert.pk}/acknowledge", {}, format="json")
    assert response.status_code == 409
    assert "resolved" in response.json()["detail"]


def test_it_answers_404_to_an_unknown_alert(api):
    assert api.post("/api/operations/alerts/999/acknowledge", {}, format="json").status_code == 404


def test_it_refuses_anonymous_clients():
    assert APIClient().get("/api/operations/alerts").status_code == 401


def test_it_raises_a_manual_alert_once_per_fingerprint(api):
    body = {"title": "Payment provider slow", "severity": "medium", "fingerprint": "psp"}
    assert api.post("/api/operations/alerts", body, format="json").status_code == 201
    second = api.post("/api/operations/alerts", body, format="json")
    assert second.status_code == 200 and second.json()["occurrence_count"] == 2


def test_it_creates_and_expires_a_silence(api):
    body = {
        "matchers": [{"label": "severity", "op": "=", "value": "low"}],
        "starts_at": "2026-01-01T00:00:00Z",
        "ends_at": "2099-01-01T00:00:00Z",
        "comment": "noisy",
    }
    response = api.post("/api/operations/silences", body, format="json")
    assert response.status_code == 201 and response.json()["active"] is True
    assert api.delete(f"/api/operations/silences/{response.json()['id']}").status_code == 204
    assert Silence.objects.active().count() == 0 and Silence.objects.count() == 1


def test_it_refuses_a_silence_with_a_bad_regex(api):
    body = {"matchers": [{"label": "rule", "op": "=~", "value": "("}], "ends_at": "2099-01-01T00:00:00Z"}
    response = api.post("/api/operations/silences", body, format="json")
    assert response.status_code == 400
    assert "matchers" in response.json()["errors"]


ALERTMANAGER = {
    "version": "4",
    "groupKey": '{}:{alertname="HighLatency"}',
    "status": "firing",
    "receiver": "vigil",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighLatency", "severity": "warning", "instance": "web-1"},
            "annotations": {"summary": "Latency high on web-1"},
            "startsAt": "2026-03-02T12:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "a1b2c3",
        }
    ],
}


def test_it_accepts_alertmanager_firing_then_resolved(api):
    url = "/api/operations/integrations/alertmanager"
    assert api.post(url, ALERTMANAGER, format="json").json() == {
        "fired": 1,
        "repeated": 0,
        "resolved": 0,
        "unchanged": 0,
    }
    assert api.post(url, ALERTMANAGER, format="json").json()["unchanged"] == 1
    alert = Alert.objects.get()
    assert (alert.alert_type, alert.severity, alert.title) == ("external", "medium", "Latency high on web-1")
    resolved = {**ALERTMANAGER, "alerts": [{**ALERTMANAGER["alerts"][0], "status": "resolved"}]}
    assert api.post(url, resolved, format="json").json()["resolved"] == 1
    assert Alert.objects.get().status == "resolved"


def test_it_refuses_a_malformed_alertmanager_payload_whole(api):
    bad = {**ALERTMANAGER, "alerts": [ALERTMANAGER["alerts"][0], {"status": "odd", "labels": {}}]}
    response = api.post("/api/operations/integrations/alertmanager", bad, format="json")
    assert response.status_code == 400
    assert "alerts[1]" in response.json()["errors"]
    assert not Alert.objects.exists()


def test_it_leaves_a_rules_evaluation_state_to_the_evaluator(api):
    rule = AlertRuleFactory()
    body = {**RULE, "state": "firing", "pending_since": "2026-01-01T00:00:00Z", "flapping": True}
    assert api.put(f"/api/operations/alert-rules/{rule.pk}", body, format="json").status_code == 200
    rule.refresh_from_db()
    assert (rule.state, rule.pending_since, rule.flapping) == ("ok", None, False)


def test_it_shows_every_evaluation_field_read_only_in_the_admin():
    from django.contrib import admin

    model_admin = admin.site._registry[AlertRule]
    assert set(AlertRule.EVALUATION_FIELDS) <= set(model_admin.readonly_fields)


def test_an_alertmanager_group_re_send_is_not_a_new_occurrence(api):
    url = "/api/operations/integrations/alertmanager"
    api.post(url, ALERTMANAGER, format="json")
    for _ in range(3):
        counts = api.post(url, ALERTMANAGER, format="json").json()
        assert counts == {"fired": 0, "repeated": 0, "resolved": 0, "unchanged": 1}
    assert Alert.objects.get().occurrence_count == 1
    again = {**ALERTMANAGER, "alerts": [{**ALERTMANAGER["alerts"][0], "startsAt": "2026-03-02T13:00:00Z"}]}
    assert api.post(url, again, format="json").json()["repeated"] == 1
    assert api.post(url, again, format="json").json()["unchanged"] == 1
    assert Alert.objects.get().occurrence_count == 2
