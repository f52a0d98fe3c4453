"""A status page with many components: pages of COMPONENTS_PER_PAGE, and bars that cost little."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from statuspage import uptime, views
from statuspage.models import ComponentUptimeDay
from tests.statuspage.factories import ComponentFactory, ComponentGroupFactory

pytestmark = pytest.mark.django_db


def _with_ninety_days(components, *, bad_every: int = 30):
    """90 days of uptime rows each: up all day, but for one day in `bad_every` with an outage."""
    today = timezone.now().astimezone(UTC).date()
    rows = []
    for component in components:
        for back in range(uptime.MAX_DAYS):
            day = today - timedelta(days=back)
            rows.append(
                ComponentUptimeDay(
                    component=component,
                    day=day,
                    observed_seconds=86400,
                    major_outage_seconds=1800 if (component.pk + back) % bad_every == 0 else 0,
                    computed_until=datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC),
                    closed=back > 0,
                )
            )
    ComponentUptimeDay.objects.bulk_create(rows)
    return components


@pytest.fixture
def many(settings):
    group = ComponentGroupFactory(name="Edge")
    return ComponentFactory.create_batch(views.COMPONENTS_PER_PAGE + 50, group=group)


def test_it_shows_one_page_of_components_with_a_link_to_the_next(client, many):
    html = client.get("/").content.decode()
    assert html.count('<div class="bars"') == views.COMPONENTS_PER_PAGE
    assert many[0].name in html and many[-1].name not in html
    assert 'href="?page=2#components-title" rel="next"' in html
    assert f'Edge<span class="row__count"> · {len(many)} components' in html


def test_it_shows_the_rest_on_the_next_page(client, many):
    html = client.get("/?page=2").content.decode()
    assert html.count('<div class="bars"') == 50
    assert many[-1].name in html and f">{many[0].name}<" not in html
    assert 'href="/#components-title" rel="prev"' in html


def test_it_answers_404_past_the_last_page(client, many):
    assert client.get("/?page=3").status_code == 404
    assert client.get("/?page=0").status_code == 404
    assert client.get("/?page=x").status_code == 404


def test_it_sends_page_one_to_the_home_page(client):
    response = client.get("/?page=01")
    assert response.status_code == 301 and response["Location"] == "/"


def test_it_draws_a_quiet_stretch_as_one_shape(client):
    _with_ninety_days([ComponentFactory(name="API")], bad_every=1000)
    html = client.get("/").content.decode()
    assert html.count("<rect ") == 1
    assert "No downtime recorded on 90 days." in html


def test_it_names_each_day_with_trouble_in_the_text_alternative(client):
    (api,) = _with_ninety_days([ComponentFactory(name="API")], bad_every=30)
    html = client.get("/").content.decode()
    label = html.split('role="img" aria-label="', 1)[1].split('"', 1)[0]
    assert label.startswith("Uptime of API over the past 90 days:")
    assert label.count("Major outage: 30 min") == 3
    assert "No downtime recorded on the other 87 days." in label


def test_it_keeps_a_component_row_small(client):
    """Ninety bars with a tooltip each made one component about 11 kB of HTML."""
    _with_ninety_days(ComponentFactory.create_batch(20), bad_every=30)
    twenty = len(client.get("/").content)
    _with_ninety_days(ComponentFactory.create_batch(20), bad_every=30)
    from statuspage import cache as page_cache

    page_cache.invalidate()
    forty = len(client.get("/").content)
    assert (forty - twenty) / 20 < 2000
