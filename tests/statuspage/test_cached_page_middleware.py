"""CachedPageMiddleware: a cached public page served before sessions, auth and URL resolution
must be the same answer the whole stack gives."""

import pytest
from django.test import Client

from monitoring.timing import aggregator
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db

PATHS = ["/", "/api/v2/summary.json", "/history?page=2", "/feeds/history.atom"]


def _headers(response) -> dict:
    return {name: value for name, value in response.items() if name != "Date"}


@pytest.mark.parametrize("path", PATHS)
def test_it_answers_a_cached_page_as_the_whole_stack_did(client, path):
    ComponentFactory(name="API")
    rendered = client.get(path, HTTP_ACCEPT_ENCODING="gzip")
    cached = client.get(path, HTTP_ACCEPT_ENCODING="gzip")
    assert hasattr(rendered.wsgi_request, "user") and not hasattr(cached.wsgi_request, "user")
    assert cached.status_code == rendered.status_code == 200
    assert _headers(cached) == _headers(rendered)
    assert cached.content == rendered.content


def test_it_serves_the_plain_copy_to_clients_without_gzip(client):
    ComponentFactory(name="API")
    client.get("/", HTTP_ACCEPT_ENCODING="gzip")
    plain = client.get("/")
    assert "Content-Encoding" not in plain and b"API" in plain.content
    assert int(plain["Content-Length"]) == len(plain.content)


def test_it_still_refuses_a_host_that_is_not_allowed(client):
    client.get("/")
    assert Client(HTTP_HOST="evil.example").get("/").status_code == 400


def test_it_leaves_other_methods_to_the_whole_stack(client):
    client.get("/")
    assert hasattr(client.post("/").wsgi_request, "user")


def test_it_records_the_route_of_a_page_it_served(client):
    ComponentFactory()
    client.get("/incidents/999")  # a 404 is not cached and goes the whole way
    client.get("/api/v2/status.json")
    aggregator.take()
    client.get("/api/v2/status.json")
    assert list(aggregator.take()) == [("GET", "api/v2/status.json", 2)]
