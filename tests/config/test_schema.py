import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from openapi_spec_validator import validate as validate_openapi
from rest_framework.test import APIClient

from config.url_inventory import api_paths, served_paths

pytestmark = pytest.mark.django_db

# DESIGN.md's API map (kept in step with /work/shared/DESIGN.md by hand: that file is not in
# the repository). Placeholders are normalised before comparing.
DESIGN_PATHS = [
    "/api/operations/system/status",
    "/api/operations/system/health/{service}",
    "/api/operations/infrastructure/metrics",
    "/api/operations/performance/metrics",
    "/api/operations/alerts",
    "/api/operations/alerts/{id}/acknowledge",
    "/api/operations/alerts/{id}/resolve",
    "/api/operations/alert-rules",
    "/api/operations/alert-rules/{id}",
    "/api/operations/config",
    "/api/operations/dashboard",
    "/api/status",
    "/api/status/incidents",
    "/api/status/incidents/{id}",
    "/api/status/components/{id}/uptime",
    "/api/status/subscribe",
    "/api/status/confirm/{token}",
    "/api/status/unsubscribe/{token}",
    "/api/status/admin/components",
    "/api/status/admin/components/{id}/status",
    "/api/status/admin/incidents",
    "/api/status/admin/incidents/{id}",
    "/api/status/admin/maintenance",
    "/api/status/admin/maintenance/{id}/start",
    "/api/status/admin/maintenance/{id}/complete",
    "/health",
    "/health/detailed",
    "/health/ready",
    "/health/live",
    "/health/database",
    "/health/system",
]
# Built in other branches (component probes, e-mail subscribers). The lead empties this list
# after merging them; from then on each must be served and in the schema.
EXPECTED_AFTER_MERGE: list[str] = []  # every DESIGN.md path is served now


def _norm(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_it_serves_every_design_path():
    served = {_norm(path) for path in served_paths()}
    missing = [p for p in map(_norm, DESIGN_PATHS) if p not in served and p not in EXPECTED_AFTER_MERGE]
    assert not missing
    assert not [p for p in EXPECTED_AFTER_MERGE if p in served], "merged: empty EXPECTED_AFTER_MERGE"


def test_it_puts_every_api_url_in_the_schema():
    documented = {_norm(path) for path in _schema()["paths"]}
    # The schema and docs pages (and Redoc's script) describe the API; they are not part of it.
    skip = {"/api/schema/", "/api/docs/", "/api/redoc/", "/api/redoc/dist/bundles/redoc.standalone.js"}
    missing = sorted({_norm(path) for path, _ in api_paths()} - documented - skip)
    assert not missing


def test_it_produces_a_valid_openapi_3_schema():
    schema = _schema()
    validate_schema(schema)  # drf-spectacular's own check against the OpenAPI 3 JSON schema
    validate_openapi(schema)
    assert schema["openapi"].startswith("3.")


def test_it_describes_requests_and_errors():
    paths = _schema()["paths"]
    update = paths["/api/status/admin/incidents/{id}"]["put"]
    assert "requestBody" in update and {"400", "401", "403", "404", "409"} <= set(update["responses"])
    assert paths["/api/status"]["get"]["security"] == []
    acknowledge = paths["/api/operations/alerts/{id}/acknowledge"]["post"]
    assert acknowledge["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "AcknowledgeRequest"
    )


def test_it_serves_the_schema_and_docs_with_local_assets():
    client = APIClient()
    assert client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").status_code == 200
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()


def test_it_groups_operations_by_topic():
    paths = _schema()["paths"]
    assert paths["/api/operations/alert-rules"]["get"]["tags"] == ["alerts"]
    assert paths["/api/status/admin/incidents"]["post"]["tags"] == ["status page (staff)"]
    assert paths["/api/operations/config"]["get"]["tags"] == ["console"]
    assert paths["/api/operations/reports/uptime"]["get"]["tags"] == ["reports"]
    assert paths["/api/operations/slos/{id}"]["get"]["tags"] == ["reports"]


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_it_declares_json_only_request_bodies():
    # A generated client builds one body type per media type; the form variants of nested
    # bodies cannot be encoded and broke the client's modules on import.
    declared = {
        name: sorted(operation["requestBody"]["content"])
        for name, operation in _operations(_schema())
        if "requestBody" in operation
    }
    assert declared and not {name: types for name, types in declared.items() if types != ["application/json"]}


def _named(schemas: dict, schema: dict) -> bool:
    """A $ref (or a list of them) to a named schema that says what it holds."""
    target = schema.get("items", schema).get("$ref", "")
    named = schemas.get(target.rsplit("/", 1)[-1])
    return bool(named) and bool(named.get("properties") or named.get("enum") or named.get("oneOf"))


def test_it_names_the_schema_of_every_json_answer():
    schema = _schema()
    schemas = schema["components"]["schemas"]
    untyped = [
        f"{name} {code}"
        for name, operation in _operations(schema)
        for code, response in operation["responses"].items()
        if "application/json" in response.get("content", {})
        and not _named(schemas, response["content"]["application/json"]["schema"])
    ]
    assert not untyped


def test_it_types_the_incident_writes_and_the_public_answers():
    paths = _schema()["paths"]

    def answer(path: str, method: str = "get", code: str = "200") -> str:
        return paths[path][method]["responses"][code]["content"]["application/json"]["schema"]["$ref"]

    assert answer("/api/status/admin/incidents", "post", "201").endswith("/IncidentEnvelope")
    assert answer("/api/status/admin/incidents/{id}", "put").endswith("/IncidentEnvelope")
    assert answer("/api/status").endswith("/StatusSummary")
    assert answer("/api/v2/summary.json").endswith("/StatusSummary")
    assert answer("/api/v2/incidents/unresolved.json").endswith("/StatusIncidentList")
