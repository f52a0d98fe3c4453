"""The feeds' ids and links lead to the pages they name, and their items carry the incident's
own times, not the rows'."""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from statuspage import services

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def history(settings):
    settings.PUBLIC_URL = "https://status.example.com"
    started = (timezone.now() - timedelta(days=3)).replace(microsecond=0)
    incident = services.incident_create(
        title="Broken login", message="Looking into it.", started_at=started, notify=False
    )
    services.incident_update_create(
        incident=incident,
        status="resolved",
        message="Fixed.",
        display_at=started + timedelta(hours=2),
        notify=False,
    )
    start = timezone.now() + timedelta(days=1)
    maintenance = services.maintenance_schedule(
        title="Upgrade", scheduled_for=start, scheduled_until=start + timedelta(hours=1), notify=False
    )
    return {"incident": incident, "started": started, "maintenance": maintenance}


def _path(url: str) -> str:
    return urlsplit(url).path


def test_it_gives_rss_items_guids_and_links_that_open(client, history):
    channel = ElementTree.fromstring(client.get("/feeds/history.rss").content).find("channel")
    urls = [e.text for item in channel.iter("item") for e in (item.find("guid"), item.find("link"))]
    assert len(urls) == 4
    assert f"https://status.example.com/incidents/{history['incident'].pk}" in urls
    for url in urls:
        assert client.get(_path(url)).status_code == 200, url


def test_it_gives_atom_entries_ids_and_links_that_open(client, history):
    feed = ElementTree.fromstring(client.get("/feeds/history.atom").content)
    entries = list(feed.iter(f"{ATOM}entry"))
    urls = [e.find(f"{ATOM}id").text for e in entries] + [e.find(f"{ATOM}link").get("href") for e in entries]
    assert len(urls) == 4
    for url in urls:
        assert client.get(_path(url)).status_code == 200, url


def test_it_dates_an_incident_by_its_start_and_its_last_update(client, history):
    feed = ElementTree.fromstring(client.get("/feeds/history.atom").content)
    entry = next(e for e in feed.iter(f"{ATOM}entry") if e.find(f"{ATOM}title").text == "Broken login")
    published = datetime.fromisoformat(entry.find(f"{ATOM}published").text)
    updated = datetime.fromisoformat(entry.find(f"{ATOM}updated").text)
    assert published == history["started"]
    assert updated == history["started"] + timedelta(hours=2)


def test_it_dates_rss_items_by_the_incident_start(client, history):
    channel = ElementTree.fromstring(client.get("/feeds/history.rss").content).find("channel")
    item = next(i for i in channel.iter("item") if i.find("title").text == "Broken login")
    assert parsedate_to_datetime(item.find("pubDate").text).astimezone(UTC) == history["started"]


def test_it_orders_items_by_their_last_update(client, history):
    feed = ElementTree.fromstring(client.get("/feeds/history.atom").content)
    titles = [e.find(f"{ATOM}title").text for e in feed.iter(f"{ATOM}entry")]
    # The maintenance was announced just now, the incident's last update was days ago.
    assert titles == ["[Maintenance] Upgrade", "Broken login"]
