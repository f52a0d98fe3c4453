"""POST /api/operations/config/apply: the same document and rules as apply_config, over HTTP."""

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from config.api_keys import api_key_create
from config.models import AuditEntry, ConfigApply
from statuspage.models import ComponentGroup
from tests.config.factories import role_user

pytestmark = pytest.mark.django_db

URL = "/api/operations/config/apply"
DOCUMENT = "version: 1\ncomponent_groups:\n  Edge:\n    position: 2\n"


def keyed(scopes: list[str], role: str = "administrator") -> APIClient:
    _, raw = api_key_create(user=role_user(role), name="automation", scopes=scopes)
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {raw}")


def post(client, body: str = DOCUMENT, query: str = "", content_type: str = "application/yaml"):
    return client.post(URL + query, data=body, content_type=content_type)


def test_it_applies_a_yaml_document_and_answers_the_diff():
    response = post(keyed(["config:write"]))
    assert response.status_code == 200, response.content
    assert response.json()["changes"] == [
        {"action": "create", "section": "component_groups", "key": "Edge", "fields": []}
    ]
    assert ComponentGroup.objects.get(name="Edge").position == 2


def test_it_takes_json_of_the_same_shape():
    body = json.dumps({"version": 1, "component_groups": {"Edge": {"position": 2}}})
    response = post(keyed(["config:write"]), body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert ComponentGroup.objects.filter(name="Edge").exists()


def test_it_writes_nothing_on_a_dry_run():
    response = post(keyed(["config:write"]), query="?dry_run=1")
    assert response.json()["dry_run"] is True and response.json()["counts"]["create"] == 1
    assert not ComponentGroup.objects.exists()


def test_it_deletes_only_with_prune():
    ComponentGroup.objects.create(name="Old")
    client = keyed(["config:write"])
    post(client)
    assert ComponentGroup.objects.filter(name="Old").exists()
    post(client, query="?prune=1")
    assert not ComponentGroup.objects.filter(name="Old").exists()


def test_it_answers_a_bad_document_with_400_and_every_problem_with_its_line():
    body = "version: 1\ncomponents:\n  API:\n    colour: red\n    position: high\n"
    response = post(keyed(["config:write"]), body)
    assert response.status_code == 400
    assert [(e["line"], e["path"]) for e in response.json()["errors"]] == [
        (4, "components[API].colour"),
        (5, "components[API].position"),
    ]


def test_it_answers_a_yaml_syntax_error_with_400():
    response = post(keyed(["config:write"]), "version: 1\ncomponents: [\n")
    assert response.status_code == 400 and response.json()["errors"][0]["line"] == 3


def test_it_answers_bad_json_with_400():
    response = post(keyed(["config:write"]), "{not json", content_type="application/json")
    assert response.status_code == 400


def test_it_refuses_another_content_type():
    response = post(keyed(["config:write"]), "version=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_it_refuses_a_body_over_the_cap(settings):
    settings.CONFIG_APPLY_MAX_BYTES = 1024
    response = post(keyed(["config:write"]), DOCUMENT + "#" * 2000 + "\n")
    assert response.status_code == 413
    assert not ComponentGroup.objects.exists()


def test_it_needs_the_config_write_scope():
    response = post(keyed(["read", "statuspage:write", "alerts:write"]))
    assert response.status_code == 403 and "config:write" in response.json()["detail"]
    assert not ComponentGroup.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_it_needs_the_administrators_permissions(role):
    response = post(keyed(["config:write"], role=role))
    assert response.status_code == 403
    assert not ComponentGroup.objects.exists()


def test_it_refuses_anonymous_clients():
    assert post(APIClient()).status_code == 401


def test_it_refuses_a_session_write_without_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_user("administrator"))
    assert post(client).status_code == 403
    assert not ComponentGroup.objects.exists()


def test_it_takes_a_session_write_with_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_user("administrator"))
    csrf = client.get("/admin/").cookies["csrftoken"].value
    response = client.post(URL, data=DOCUMENT, content_type="application/yaml", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200, response.content


def test_it_writes_an_audit_entry_for_an_apply_that_changed_something():
    client = keyed(["config:write"])
    post(client)
    post(client)
    record = ConfigApply.objects.get()
    entry = AuditEntry.objects.get(object_id=str(record.pk), content_type__model="configapply")
    assert (entry.actor_name, entry.via, entry.path) == ("administrator", "api", URL)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "- 1\n- 2\n",
        "just text\n",
        "version: 1\ncomponents: 5\n",
        "version: 1\nprobes: [1, 2]\n",
        "version: 1\nprobes:\n  - {component: [x], kind: {a: 1}, port: nine}\n",
        "version: 1\nsilences:\n  - {matchers: nope, starts_at: yesterday, ends_at: 5}\n",
        "version: 1\nescalation_policies:\n  P: {steps: [{level: one}]}\n",
        "version: 1\nescalation_policies:\n  P: {drill_time: 10:00}\n",
        "version: 1\ntemplates:\n  T: {title: x, message: y, components: {Nowhere: exploded}}\n",
        "version: 1\n? [a, b]\n: c\n",
        "version: 1\nx: !!python/object:os.system {}\n",
        "version: 1\ncomponents:\n  '': {}\n",
        'version: 1\ncomponents:\n  API: {description: "tab\\there"}\n',
        "[" * 5000,
        "version: true\n",
    ],
)
def test_it_answers_odd_documents_with_400_never_500(body):
    response = post(keyed(["config:write"]), body)
    assert response.status_code == 400, response.content
    assert response.json()["errors"]


def test_it_answers_deeply_nested_json_with_400():
    body = "[" * 5000 + "]" * 5000
    response = post(keyed(["config:write"]), body, content_type="application/json")
    assert response.status_code == 400
