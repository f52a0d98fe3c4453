"""/api/operations/users/me/...: each person's own contact methods and rules, nobody else's;
and the escalation policies."""

import re

import pytest
from rest_framework.test import APIClient

from notifications.models import Delivery
from oncall.models import ContactMethod, EscalationPolicy
from tests.config.factories import role_user
from tests.oncall.factories import person

pytestmark = pytest.mark.django_db
METHODS = "/api/operations/users/me/contact-methods"
RULES = "/api/operations/users/me/notification-rules"
POLICIES = "/api/operations/oncall/escalation-policies"


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def viewer():
    return client_of(role_user("viewer"))


def test_even_a_viewer_adds_and_verifies_their_own_e_mail(viewer):
    made = viewer.post(METHODS, {"kind": "email", "address": "viewer@example.com"}, format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["verified"] is False
    url = f"{METHODS}/{made.json()['id']}/verify"
    assert viewer.post(url, {}, format="json").status_code == 202
    code = re.search(r"\d{6}", Delivery.objects.get().message.context["body"]).group()
    verified = viewer.post(url, {"code": code}, format="json")
    assert verified.status_code == 200 and verified.json()["verified"] is True


def test_a_wrong_code_is_a_400_naming_the_code(viewer):
    made = viewer.post(METHODS, {"kind": "email", "address": "viewer@example.com"}, format="json").json()
    viewer.post(f"{METHODS}/{made['id']}/verify", {}, format="json")
    answer = viewer.post(f"{METHODS}/{made['id']}/verify", {"code": "abcdef"}, format="json")
    assert answer.status_code == 400 and "code" in answer.json()["errors"]


def test_an_sms_number_cannot_be_verified_yet(viewer):
    made = viewer.post(METHODS, {"kind": "sms", "address": "+491701234567"}, format="json").json()
    answer = viewer.post(f"{METHODS}/{made['id']}/verify", {}, format="json")
    assert answer.status_code == 409 and "cannot send" in answer.json()["detail"]


def test_a_bad_address_is_a_400_naming_the_field(viewer):
    answer = viewer.post(METHODS, {"kind": "push", "address": "no spaces"}, format="json")
    assert answer.status_code == 400 and "address" in answer.json()["errors"]


def test_nobody_sees_or_changes_another_persons_methods(viewer):
    theirs = ContactMethod.objects.create(user=person("mallory"), kind="email", address="m@example.com")
    assert theirs.pk not in [m["id"] for m in _items(viewer.get(METHODS).json())]
    for method in ("get", "put", "patch", "delete"):
        answer = getattr(viewer, method)(
            f"{METHODS}/{theirs.pk}", {"address": "x@example.com"}, format="json"
        )
        assert answer.status_code == 404, method
    assert viewer.post(f"{METHODS}/{theirs.pk}/verify", {}, format="json").status_code == 404
    theirs.refresh_from_db()
    assert theirs.address == "m@example.com"


def _items(body):
    return body["results"] if isinstance(body, dict) else body


def test_rules_replace_the_persons_own_and_refuse_anothers_method(viewer):
    mine = viewer.post(METHODS, {"kind": "email", "address": "viewer@example.com"}, format="json").json()[
        "id"
    ]
    theirs = ContactMethod.objects.create(user=person("mallory"), kind="email", address="m@example.com")
    body = {"rules": [{"urgency": "high", "contact_method": mine, "delay_minutes": 0}]}
    assert viewer.put(RULES, body, format="json").json() == body
    refused = viewer.put(RULES, {"rules": [{"urgency": "low", "contact_method": theirs.pk}]}, format="json")
    assert refused.status_code == 400 and "rules" in refused.json()["errors"]
    assert viewer.get(RULES).json() == body


def test_an_administrator_writes_a_policy_with_a_schedule_step(api):
    from tests.oncall.factories import daily_layer, schedule

    primary = schedule(layers=[daily_layer(person("alice"))])
    body = {
        "name": "Databases",
        "repeat": 2,
        "steps": [{"level": 1, "escalate_after_minutes": 5, "schedules": [primary.pk]}],
    }
    made = api.post(POLICIES, body, format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["steps"][0]["schedules"] == [primary.pk]
    assert EscalationPolicy.objects.get().steps.get().schedules.get() == primary


def test_a_policy_step_without_targets_or_too_many_repeats_is_a_400(api):
    body = {"name": "Empty", "repeat": 10, "steps": [{"level": 1, "escalate_after_minutes": 5}]}
    answer = api.post(POLICIES, body, format="json")
    assert answer.status_code == 400 and "repeat" in answer.json()["errors"]
    body["repeat"] = 0
    answer = api.post(POLICIES, body, format="json")
    assert answer.status_code == 400 and "steps" in answer.json()["errors"]


def test_a_viewer_reads_but_does_not_write_policies(viewer):
    assert viewer.get(POLICIES).status_code == 200
    assert viewer.post(POLICIES, {"name": "x"}, format="json").status_code == 403


def test_a_rule_takes_an_escalation_policy_by_id(api):
    policy = EscalationPolicy.objects.create(name="Databases")
    body = {"name": "db", "metric_name": "db.up", "threshold": 1, "escalationPolicy": policy.pk}
    made = api.post("/api/operations/alert-rules", body, format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["escalationPolicy"] == policy.pk
