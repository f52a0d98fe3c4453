"""Public JSON is readable from any origin, preflight included; the HTML pages are not CORS-open."""

import pytest

pytestmark = pytest.mark.django_db

PUBLIC_JSON = [
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
    "/api/status",
    "/api/status/incidents",
    "/api/status/incidents/1",
    "/api/status/components/1/uptime",
]
PREFLIGHT = {
    "HTTP_ORIGIN": "https://widget.example",
    "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "GET",
    "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "x-widget-version, authorization",
}


@pytest.mark.parametrize("path", PUBLIC_JSON)
def test_it_answers_a_preflight_for_public_json(client, path):
    response = client.options(path, **PREFLIGHT)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert response["Access-Control-Allow-Headers"] == "x-widget-version, authorization"
    assert int(response["Access-Control-Max-Age"]) > 0


@pytest.mark.parametrize("path", ["/api/status", "/api/v2/summary.json"])
def test_it_opens_the_get_of_public_json_to_any_origin(client, path):
    for _ in range(2):  # rendered, then from the page cache
        assert client.get(path, HTTP_ORIGIN="https://widget.example")["Access-Control-Allow-Origin"] == "*"


def test_it_lets_other_origins_read_an_error_too(client):
    response = client.get("/api/status/components/1/uptime?days=abc", HTTP_ORIGIN="https://widget.example")
    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == "*"


def test_it_echoes_only_header_names(client):
    headers = {**PREFLIGHT, "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "x-ok\r\nSet-Cookie: a=b"}
    response = client.options("/api/v2/status.json", **headers)
    assert response.status_code == 204
    assert "Access-Control-Allow-Headers" not in response


def test_it_refuses_other_methods_on_public_json_naming_the_allowed_ones(client):
    response = client.delete("/api/v2/status.json")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"


def test_it_keeps_the_html_pages_closed_to_preflights(client):
    response = client.options("/", **PREFLIGHT)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert "Access-Control-Allow-Origin" not in response
