"""What the public pages may put in the shared cache: one entry per page whatever its spelling,
and nothing for a page over STATUSPAGE_CACHE_MAX_BYTES."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from statuspage import cache as page_cache
from statuspage import services
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


def _entries() -> int:
    """Entries in the real shared cache: Redis in service mode, the file cache embedded."""
    if hasattr(cache, "_list_cache_files"):
        return len(cache._list_cache_files())
    return len(cache._cache.get_client().keys(cache.make_key("*")))


@pytest.fixture
def incident():
    return services.incident_create(title="Disk full", message="Looking.", components={})


@pytest.fixture
def empty_cache():
    page_cache.current_generation()  # the generation key is there before counting
    return _entries()


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("/incidents/0{pk}", "/incidents/{pk}"),
        ("/incidents/000{pk}?utm_source=x", "/incidents/{pk}"),
        ("/maintenance/0{pk}", "/maintenance/{pk}"),
        ("/history?page=01", "/history"),
        ("/history?page=1", "/history"),
        ("/history?page=002", "/history?page=2"),
        ("/history?page=%2B2", "/history?page=2"),
        ("/history?page=2&page=2", "/history?page=2"),
        ("/api/status/incidents/0{pk}", "/api/status/incidents/{pk}"),
        ("/api/status/incidents?page=01", "/api/status/incidents"),
        ("/api/status/components/0{pk}/uptime?days=090", "/api/status/components/{pk}/uptime"),
        ("/api/status/components/{pk}/uptime?days=07", "/api/status/components/{pk}/uptime?days=7"),
    ],
)
def test_it_redirects_another_spelling_to_the_canonical_url(client, incident, path, canonical):
    response = client.get(path.format(pk=incident.pk))
    assert response.status_code == 301
    assert response["Location"] == canonical.format(pk=incident.pk)


def test_it_stores_one_entry_for_many_spellings_of_one_incident(client, incident, empty_cache):
    variants = [f"/incidents/{'0' * zeros}{incident.pk}" for zeros in range(1, 100)]
    variants += [f"/incidents/{incident.pk}?v={n}" for n in range(100)]
    variants += [f"/history?page={'0' * zeros}1" for zeros in range(1, 100)]
    for path in variants:
        assert client.get(path, follow=True).status_code == 200
    assert _entries() - empty_cache <= 2  # the incident page and the history page


def test_it_leaves_a_value_that_is_no_number_to_the_view(client):
    assert client.get("/history?page=abc").status_code == 404
    assert client.get("/api/status/incidents?page=abc").status_code == 400


def test_it_serves_a_page_over_the_size_cap_without_storing_it(client, settings, empty_cache):
    settings.STATUSPAGE_CACHE_MAX_BYTES = 1024
    ComponentFactory.create_batch(3)
    first = client.get("/")
    with CaptureQueriesContext(connection) as second_render:
        second = client.get("/")
    assert first.status_code == second.status_code == 200 and b"<html" in second.content
    assert len(second_render) > 0  # rendered again, not read from a cache
    assert _entries() == empty_cache


def test_it_stores_a_page_within_the_size_cap(client, empty_cache):
    ComponentFactory.create_batch(3)
    client.get("/")
    with CaptureQueriesContext(connection) as second_render:
        assert client.get("/").status_code == 200
    assert len(second_render) == 0
    assert _entries() == empty_cache + 1
