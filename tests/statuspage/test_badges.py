"""SVG badges for the overall status and a component's status and uptime, and the embeddable
widget script: well-formed, escaped, the same figures as the page's own, cached like it."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone

from statuspage import services, uptime
from statuspage.models import ComponentStatus
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


def svg(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("image/svg+xml")
    return ET.fromstring(response.content)


def texts(root) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


def test_the_overall_badge_shows_the_pages_status(client):
    ComponentFactory()
    root = svg(client, "/badge/status.svg")
    assert texts(root) == ["status", "All Systems Operational"]
    assert root.find(f"{SVG}title").text == "status: All Systems Operational"


def test_the_overall_badge_turns_red_in_a_major_outage(client):
    component = ComponentFactory()
    services.component_set_status(component=component, status=ComponentStatus.MAJOR_OUTAGE)
    root = svg(client, "/badge/status.svg")
    fills = [rect.get("fill") for rect in root.iter(f"{SVG}rect")]
    assert "#e03131" in fills and texts(root)[1] != "All Systems Operational"


def test_a_component_badge_names_the_component_and_its_status(client):
    component = ComponentFactory(name="API")
    services.component_set_status(component=component, status=ComponentStatus.PARTIAL_OUTAGE)
    assert texts(svg(client, f"/badge/components/{component.pk}/status.svg")) == ["API", "partial outage"]


def test_a_hostile_component_name_arrives_as_text(client):
    component = ComponentFactory(name='<script>alert(1)</script> & "x"')
    response = client.get(f"/badge/components/{component.pk}/status.svg")
    assert b"<script>" not in response.content
    assert texts(ET.fromstring(response.content))[0] == '<script>alert(1)</script> & "x"'


def test_the_uptime_badge_shows_the_uptime_apis_figure(client):
    component = ComponentFactory(created_at=timezone.now() - timedelta(days=40))
    services.component_set_status(
        component=component, status=ComponentStatus.MAJOR_OUTAGE, at=timezone.now() - timedelta(days=2)
    )
    services.component_set_status(
        component=component,
        status=ComponentStatus.OPERATIONAL,
        at=timezone.now() - timedelta(days=1, hours=20),
    )
    expected = uptime.percentage(uptime.figures_for([component], days=30)[component.pk])
    api = client.get(f"/api/status/components/{component.pk}/uptime", {"days": 30}).json()
    root = svg(client, f"/badge/components/{component.pk}/uptime.svg")
    assert texts(root) == ["uptime 30d", f"{expected:.2f}%"]
    assert api["uptime_percentage"] == expected and expected < 100


@pytest.mark.parametrize("days", ["0", "91", "abc", "²"])
def test_the_uptime_badge_refuses_a_bad_span_with_a_400(client, days):
    component = ComponentFactory()
    assert client.get(f"/badge/components/{component.pk}/uptime.svg", {"days": days}).status_code == 400


def test_an_unknown_component_is_a_404(client):
    assert client.get("/badge/components/999999/status.svg").status_code == 404


def test_a_badge_is_served_from_the_page_cache(client, django_assert_num_queries):
    component = ComponentFactory()
    path = f"/badge/components/{component.pk}/status.svg"
    first = client.get(path).content
    with django_assert_num_queries(0):
        assert client.get(path).content == first


def test_a_badge_follows_a_status_change_at_once(client, django_capture_on_commit_callbacks):
    component = ComponentFactory(name="API")
    path = f"/badge/components/{component.pk}/status.svg"
    client.get(path)
    with django_capture_on_commit_callbacks(execute=True):  # the change turns the page over on commit
        services.component_set_status(component=component, status=ComponentStatus.MAJOR_OUTAGE)
    assert texts(svg(client, path))[1] == "major outage"


def test_the_widget_script_is_served_at_a_fixed_address(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert b"/api/v2/status.json" in response.content and b"innerHTML" not in response.content


def test_badges_refuse_writes(client):
    assert client.post("/badge/status.svg").status_code == 405
