"""The uptime export: the page's formula over a period, the same as the uptime API's figures."""

import csv
import io
import struct
import zlib

import pytest

from reports.chart import png_bars
from statuspage.uptime import uptime_rollup
from tests.reports.conftest import at, set_status
from tests.statuspage.factories import ComponentFactory, ComponentGroupFactory

pytestmark = pytest.mark.django_db

URL = "/api/operations/reports/uptime"


@pytest.fixture
def component():
    return ComponentFactory(name="API", created_at=at("2026-01-15 00:00"), status="operational")


@pytest.fixture
def february(component):
    """An outage across a month end and a partial one in the middle of February."""
    set_status(component, "major_outage", "2026-01-31 23:00")
    set_status(component, "operational", "2026-02-01 01:30")
    set_status(component, "partial_outage", "2026-02-14 10:00")
    set_status(component, "operational", "2026-02-14 12:17:13")
    set_status(component, "major_outage", "2026-02-28 23:59:01")
    set_status(component, "operational", "2026-03-01 00:10")
    return component


def test_it_gives_the_uptime_apis_figure_for_a_month_to_the_second(api, clock, february):
    clock.move_to("2026-03-01 00:00")
    uptime_rollup()
    public = api.get(f"/api/status/components/{february.pk}/uptime?days=29").json()
    report = api.get(URL, {"from": "2026-02-01", "to": "2026-02-28"}).json()
    row = report["components"][0]
    assert row["uptime_percentage"] == public["uptime_percentage"]
    assert row["observed_seconds"] == sum(d["observed_seconds"] for d in public["daily"]) == 28 * 86400
    assert row["major_outage_seconds"] == 90 * 60 + 59
    assert row["partial_outage_seconds"] == 2 * 3600 + 17 * 60 + 13


def test_it_matches_the_api_for_the_last_thirty_days_up_to_now(api, clock, february):
    clock.move_to("2026-03-10 12:34:56")
    uptime_rollup()
    public = api.get(f"/api/status/components/{february.pk}/uptime?days=30").json()
    row = api.get(URL, {"from": "2026-02-09", "to": "2026-03-10"}).json()["components"][0]
    assert row["uptime_percentage"] == public["uptime_percentage"]
    assert row["observed_seconds"] == 29 * 86400 + 12 * 3600 + 34 * 60 + 56


def test_it_exports_the_same_figures_as_csv(api, clock, february):
    clock.move_to("2026-03-01 00:00")
    uptime_rollup()
    as_json = api.get(URL, {"from": "2026-02-01", "to": "2026-02-28"}).json()["components"][0]
    response = api.get(URL, {"from": "2026-02-01", "to": "2026-02-28", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    (row,) = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert float(row["uptime_percentage"]) == as_json["uptime_percentage"]
    assert int(row["major_outage_seconds"]) == as_json["major_outage_seconds"]


def test_it_gives_the_admin_export_the_same_figures(admin_client, api, clock, february):
    clock.move_to("2026-03-01 00:00")
    uptime_rollup()
    query = {"from": "2026-02-01", "to": "2026-02-28"}
    from_api = api.get(URL, query).json()["components"]
    from_admin = admin_client.get("/admin/reports/report/uptime-export/", {**query, "format": "json"}).json()
    assert from_admin["components"] == from_api
    page = admin_client.get("/admin/reports/report/uptime-export/", query)
    assert page.status_code == 200 and b"<svg" in page.content and b"API" in page.content


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "2026-02-10", "to": "2026-02-01"}, "to"),
        ({"to": "2099-01-01"}, "to"),
        ({"format": "xml"}, "format"),
        ({"components": "1;2"}, "components"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "from"),
    ],
)
def test_it_answers_a_bad_parameter_with_a_400_naming_it(api, query, named):
    response = api.get(URL, query)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [named]


def test_it_keeps_a_formula_in_a_name_as_text_in_the_csv(api, clock):
    ComponentFactory(name="=HYPERLINK(1)", group=ComponentGroupFactory(name="@SUM(2)"))
    (row,) = csv.DictReader(io.StringIO(api.get(URL, {"format": "csv"}).content.decode()))
    assert (row["name"], row["group"]) == ("'=HYPERLINK(1)", "'@SUM(2)")


def test_it_refuses_the_admin_export_to_staff_without_the_permission(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", is_staff=True))
    assert client.get("/admin/reports/report/uptime-export/").status_code == 403


def test_it_names_the_bad_parameter_on_the_admin_export(admin_client):
    response = admin_client.get("/admin/reports/report/uptime-export/", {"from": "soon"})
    assert response.status_code == 400 and b"from must be a date" in response.content


def test_it_draws_the_chart_as_a_png_of_its_size():
    png = png_bars([0.0, 12.5, 0.0, 60.0])
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (600, 160)
    # One filter byte and three bytes a pixel per row.
    data = zlib.decompress(png[png.index(b"IDAT") + 4 : png.index(b"IEND") - 8])
    assert len(data) == height * (1 + 3 * width)
