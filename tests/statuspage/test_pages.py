from datetime import UTC, timedelta
from xml.etree import ElementTree

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from statuspage import cache as page_cache
from statuspage import services, uptime
from statuspage.models import Component
from tests.statuspage.factories import ComponentFactory, ComponentGroupFactory

pytestmark = pytest.mark.django_db


def _incident(title="Database trouble", components=None, **kwargs):
    return services.incident_create(
        title=title, message="We are looking into it.", components=components or {}, **kwargs
    )


def test_it_shows_the_overall_banner_groups_and_statuses_in_text(client):
    group = ComponentGroupFactory(name="Infrastructure")
    ComponentFactory(name="Database", group=group, status="partial_outage")
    html = client.get("/").content.decode()
    assert "Partial System Outage" in html
    assert "Infrastructure" in html and "Database" in html
    assert "Partial outage" in html  # status written out, not only a colour


def test_it_has_landmarks_feeds_subscribe_form_and_the_formula(client):
    ComponentFactory()
    html = client.get("/").content.decode()
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in html
    assert 'href="/feeds/history.atom"' in html and 'href="/feeds/history.rss"' in html
    assert 'action="/api/status/subscribe"' in html
    assert uptime.FORMULA in html


def test_it_shows_an_active_incident_with_its_latest_update(client):
    incident = _incident()
    services.incident_update_create(incident=incident, status="identified", message="A disk filled up.")
    html = client.get("/").content.decode()
    assert "Database trouble" in html and "A disk filled up." in html


def test_it_shows_maintenance_in_progress_and_upcoming(client):
    start = timezone.now() + timedelta(hours=3)
    services.maintenance_schedule(
        title="Switch swap", scheduled_for=start, scheduled_until=start + timedelta(hours=1)
    )
    active = services.maintenance_schedule(
        title="Kernel patch", scheduled_for=start, scheduled_until=start + timedelta(hours=1)
    )
    services.maintenance_start(maintenance=active)
    html = client.get("/").content.decode()
    assert "Switch swap" in html and "Kernel patch" in html and "In progress" in html


def test_it_draws_ninety_days_as_one_described_element(client):
    component = ComponentFactory()
    services.component_set_status(component=component, status="major_outage")
    html = client.get("/").content.decode()
    assert html.count('<div class="bars" tabindex="0" role="img" aria-label="') == 1
    assert 'viewBox="0 0 90 1"' in html and '<rect class="bar--major" x="89" width="1"' in html
    assert "Major outage:" in html


def _home_queries(client) -> int:
    page_cache.invalidate()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


def test_it_reads_the_home_page_in_constant_queries(client):
    group = ComponentGroupFactory()
    recent = timezone.now() - timedelta(days=2)  # few uptime days to roll up: a fast test
    components = ComponentFactory.create_batch(5, group=group, created_at=recent)
    start = timezone.now() + timedelta(hours=1)
    # One of each kind in both runs (an empty prefetch is skipped, which is not growth).
    _incident(components={components[0]: "major_outage"})
    _incident(title="Past", status="resolved", components={components[1]: "partial_outage"})
    services.maintenance_schedule(
        title="First", scheduled_for=start, scheduled_until=start + timedelta(hours=1)
    )
    uptime.uptime_rollup()
    few = _home_queries(client)
    more = ComponentFactory.create_batch(95, group=group, created_at=recent)
    for index, component in enumerate(more[:20]):
        _incident(title=f"Trouble {index}", components={component: "partial_outage"})
        _incident(title=f"Past {index}", status="resolved", components={component: "partial_outage"})
    services.maintenance_schedule(
        title="Patch", scheduled_for=start, scheduled_until=start + timedelta(hours=1), components=more[20:40]
    )
    uptime.uptime_rollup()
    assert Component.objects.count() == 100
    assert _home_queries(client) == few


def test_it_shows_the_full_timeline_on_the_incident_page(client):
    incident = _incident(components={ComponentFactory(name="API"): "major_outage"})
    services.incident_update_create(incident=incident, status="monitoring", message="Fix deployed.")
    services.incident_update_create(incident=incident, status="resolved", message="All good.")
    html = client.get(f"/incidents/{incident.pk}").content.decode()
    assert html.index("All good.") < html.index("Fix deployed.") < html.index("We are looking into it.")
    assert "UTC</time>" in html


def test_it_answers_404_for_unknown_pages(client):
    assert client.get("/incidents/999").status_code == 404
    assert client.get("/maintenance/999").status_code == 404
    assert client.get("/history?page=0").status_code == 404


def test_it_shows_the_maintenance_page(client):
    start = timezone.now() + timedelta(days=1)
    maintenance = services.maintenance_schedule(
        title="Network work",
        description="Core switches.",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=1),
    )
    html = client.get(f"/maintenance/{maintenance.pk}").content.decode()
    assert "Network work" in html and "Core switches." in html and "Scheduled" in html


def test_it_groups_history_by_month_and_pages_back(client):
    now = timezone.now().astimezone(UTC)
    _incident(title="Recent one")
    _incident(title="Old one", started_at=now - timedelta(days=130))
    first = client.get("/history").content.decode()
    assert "Recent one" in first and "Old one" not in first
    assert now.strftime("%B %Y") in first and 'href="?page=2"' in first
    second = client.get("/history?page=2").content.decode()
    assert "Old one" in second


def test_it_serves_rss_and_atom_feeds_of_incidents_and_maintenance(client):
    _incident(title="Broken login")
    start = timezone.now() + timedelta(days=1)
    services.maintenance_schedule(
        title="Upgrade", scheduled_for=start, scheduled_until=start + timedelta(hours=1)
    )
    rss = client.get("/feeds/history.rss")
    atom = client.get("/feeds/history.atom")
    assert rss["Content-Type"].startswith("application/rss+xml")
    assert atom["Content-Type"].startswith("application/atom+xml")
    titles = [e.text for e in ElementTree.fromstring(rss.content).iter("title")]
    assert "Broken login" in titles and "[Maintenance] Upgrade" in titles
    assert b"We are looking into it." in atom.content


# --- the cache -------------------------------------------------------------------------------


def test_it_serves_public_pages_from_the_cache(client):
    component = ComponentFactory(name="API")
    client.get("/")
    Component.objects.filter(pk=component.pk).update(name="Renamed behind the services' back")
    assert "Renamed" not in client.get("/").content.decode()
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v2/summary.json")
        client.get("/api/v2/summary.json")
    assert len([q for q in queries if "statuspage_component" in q["sql"]]) == 1


def test_it_invalidates_every_public_response_on_a_change(client, django_capture_on_commit_callbacks):
    component = ComponentFactory()
    assert "All Systems Operational" in client.get("/").content.decode()
    assert client.get("/api/v2/status.json").json()["status"]["indicator"] == "none"
    with django_capture_on_commit_callbacks(execute=True):
        services.component_set_status(component=component, status="major_outage")
    assert "Major System Outage" in client.get("/").content.decode()
    assert client.get("/api/v2/status.json").json()["status"]["indicator"] == "critical"


def test_it_shows_another_processs_change_once_the_local_ttl_passes(client, settings, monkeypatch):
    settings.STATUSPAGE_LOCAL_TTL = 1.0
    clock = [1000.0]
    monkeypatch.setattr(page_cache, "clock", lambda: clock[0])
    component = ComponentFactory()
    client.get("/api/v2/status.json")
    # Another process commits a change: the database and the shared generation key move.
    Component.objects.filter(pk=component.pk).update(status="major_outage")
    cache.set(page_cache.GENERATION_KEY, "from-another-process", timeout=None)
    assert client.get("/api/v2/status.json").json()["status"]["indicator"] == "none"
    clock[0] += 1.01
    assert client.get("/api/v2/status.json").json()["status"]["indicator"] == "critical"


def test_it_ignores_unread_query_parameters_in_the_cache_key(client):
    ComponentFactory()
    client.get("/")
    page_cache_size = len(page_cache._local.pages)
    for n in range(5):
        client.get(f"/?bust={n}")
    assert len(page_cache._local.pages) == page_cache_size


def test_it_marks_public_responses_cacheable_for_a_moment(client):
    assert client.get("/")["Cache-Control"] == "public, max-age=1"


# --- publish_status ---------------------------------------------------------------------------


def test_it_publishes_the_page_json_and_feeds_as_static_files(tmp_path):
    incident = _incident(title="Published incident", components={ComponentFactory(): "major_outage"})
    call_command("publish_status", "--out", str(tmp_path))
    assert "Published incident" in (tmp_path / "index.html").read_text()
    assert (tmp_path / "incidents" / str(incident.pk) / "index.html").exists()
    assert b'"indicator": "critical"' in (tmp_path / "api/v2/status.json").read_bytes()
    assert (tmp_path / "feeds/history.atom").exists()
    assert (tmp_path / "static/statuspage/status.css").exists()
    assert not list(tmp_path.rglob("*.tmp"))


def test_it_refuses_publish_without_a_folder(settings):
    from django.core.management.base import CommandError

    settings.STATUSPAGE_PUBLISH_DIR = ""
    with pytest.raises(CommandError):
        call_command("publish_status")


def test_it_serves_gzip_to_clients_that_accept_it(client):
    import gzip

    ComponentFactory(name="Compressed component")
    plain = client.get("/")
    packed = client.get("/", HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert packed["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain
    assert gzip.decompress(packed.content) == plain.content


def test_it_keeps_serving_when_the_shared_cache_is_down(client, settings, closed_port):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    ComponentFactory(name="Still visible")
    assert "Still visible" in client.get("/").content.decode()
    assert client.get("/api/v2/status.json").json()["status"]["indicator"] == "none"


def test_it_republishes_the_static_copy_after_a_change(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    from config.celery import app

    settings.STATUSPAGE_PUBLISH_DIR = str(tmp_path)
    component = ComponentFactory()
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True  # run the enqueued task here; no worker in a unit test
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.component_set_status(component=component, status="major_outage")
    finally:
        app.conf.task_always_eager = eager
    assert b'"indicator": "critical"' in (tmp_path / "api/v2/status.json").read_bytes()


def test_it_leaves_out_bars_of_components_that_hide_their_uptime(client):
    ComponentFactory(name="Shown")
    ComponentFactory(name="Hidden", show_uptime=False)
    html = client.get("/").content.decode()
    assert "Hidden" in html
    assert html.count('<div class="bars"') == 1
