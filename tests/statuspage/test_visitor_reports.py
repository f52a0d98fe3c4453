"""The public "Having trouble?" form: a plain POST that works with the cached page, counted
per component in memory and written as metric rows, never one row per report."""

import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from monitoring import counters
from monitoring.counters import flush_counters
from monitoring.models import Metric
from statuspage.visitor_reports import METRIC_NAME, visitor_report_counts_last
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def _empty_counters():
    counters.aggregator.take()
    yield
    counters.aggregator.take()


def browser(address: str = "10.1.0.1") -> Client:
    """A client that enforces CSRF, as a real browser session meets it."""
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=address)


def post(client: Client, fields: dict, **headers):
    return client.post("/report-trouble", urlencode(fields), content_type=FORM, **headers)


def page_form(html: str) -> dict:
    """The fields a browser would send from the page's form: the first option, no problem."""
    form = re.search(r'<form class="trouble__form" method="post" action="([^"]+)">(.*?)</form>', html, re.S)
    first = re.search(r'<option value="([^"]+)"', form.group(2)).group(1)
    return {"action": form.group(1), "component": first}


def reports() -> dict:
    flush_counters()
    return visitor_report_counts_last(minutes=60)


def test_it_takes_the_form_from_the_cached_page_with_csrf_checks_on():
    component = ComponentFactory(name="API")
    client = browser()
    client.get("/")
    form = page_form(client.get("/").content.decode())  # the second answer is the cached copy
    response = client.post(
        form["action"],
        urlencode({"component": form["component"], "problem": "slow"}),
        content_type=FORM,
        HTTP_ORIGIN="http://testserver",
    )
    assert (response.status_code, response["Location"]) == (303, "/report-received")
    assert reports() == {str(component.pk): 1}


def test_it_shows_a_thank_you_page():
    response = browser().get("/report-received")
    assert response.status_code == 200 and "Thank you" in response.content.decode()


def test_it_sets_no_cookie():
    component = ComponentFactory()
    response = post(browser(), {"component": component.pk}, HTTP_ORIGIN="http://testserver")
    assert response.cookies == {}


def test_it_refuses_a_cross_origin_post():
    component = ComponentFactory()
    response = post(browser(), {"component": component.pk}, HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403 and reports() == {}


def test_it_refuses_a_cross_site_referer_when_there_is_no_origin():
    component = ComponentFactory()
    response = post(browser(), {"component": component.pk}, HTTP_REFERER="https://evil.example/page")
    assert response.status_code == 403


def test_it_refuses_the_null_origin_of_a_sandboxed_frame():
    component = ComponentFactory()
    assert post(browser(), {"component": component.pk}, HTTP_ORIGIN="null").status_code == 403


def test_it_accepts_the_public_url_as_origin(settings):
    settings.PUBLIC_URL = "https://status.example.com"
    settings.CSRF_TRUSTED_ORIGINS = [settings.PUBLIC_URL]  # as settings.py derives it
    component = ComponentFactory()
    response = post(browser(), {"component": component.pk}, HTTP_ORIGIN="https://status.example.com")
    assert response.status_code == 303


def test_it_counts_something_else_as_other():
    post(browser(), {"component": "other"})
    assert reports() == {"other": 1}


def test_it_refuses_an_unknown_component_with_400():
    assert post(browser(), {"component": "999999"}).status_code == 400


def test_it_refuses_a_missing_component_with_400():
    assert post(browser(), {"problem": "slow"}).status_code == 400


def test_it_refuses_an_unknown_problem_with_400():
    component = ComponentFactory()
    assert post(browser(), {"component": component.pk, "problem": "bored"}).status_code == 400


def test_it_refuses_a_large_body_with_413():
    component = ComponentFactory()
    response = post(browser(), {"component": component.pk, "padding": "x" * 600})
    assert response.status_code == 413


def test_it_refuses_get_with_405():
    response = browser().get("/report-trouble")
    assert response.status_code == 405 and response["Allow"] == "POST"


def test_it_refuses_a_body_that_is_not_form_encoded_with_415():
    component = ComponentFactory()
    response = browser().post("/report-trouble", {"component": component.pk})  # multipart
    assert response.status_code == 415


def test_it_counts_one_visitor_once_per_component():
    component = ComponentFactory()
    client = browser()
    for _ in range(3):
        post(client, {"component": component.pk})
    assert reports() == {str(component.pk): 1}


def test_it_counts_two_visitors_apart():
    component = ComponentFactory()
    post(browser("10.1.0.1"), {"component": component.pk})
    post(browser("10.1.0.2"), {"component": component.pk})
    assert reports() == {str(component.pk): 2}


def test_it_throttles_reports_per_client(settings):
    settings.PUBLIC_THROTTLE_RATES = {**settings.PUBLIC_THROTTLE_RATES, "report": 2}
    component = ComponentFactory()
    client = browser()
    codes = [post(client, {"component": component.pk}).status_code for _ in range(3)]
    assert codes == [303, 303, 429]


def test_it_writes_one_row_per_component_and_problem_not_one_per_report():
    component = ComponentFactory()
    for i in range(50):
        post(browser(f"10.2.0.{i}"), {"component": component.pk, "problem": "errors"})
    flush_counters()
    rows = list(Metric.objects.filter(name=METRIC_NAME).values_list("value", "tags"))
    assert rows == [(50.0, {"component": str(component.pk), "problem": "errors"})]


def test_it_stores_nothing_about_the_visitor():
    component = ComponentFactory()
    post(browser("203.0.113.77"), {"component": component.pk}, HTTP_USER_AGENT="Agent/1.0")
    flush_counters()
    stored = str(list(Metric.objects.filter(name=METRIC_NAME).values()))
    assert "203.0.113.77" not in stored and "Agent/1.0" not in stored


def test_it_does_not_spend_the_report_throttle_on_the_thank_you_page(settings):
    settings.PUBLIC_THROTTLE_RATES = {**settings.PUBLIC_THROTTLE_RATES, "report": 1}
    client = browser()
    post(client, {"component": "other"})
    assert [client.get("/report-received").status_code for _ in range(2)] == [200, 200]


def test_it_refuses_a_post_the_browser_calls_cross_site():
    component = ComponentFactory()
    response = post(browser(), {"component": component.pk}, HTTP_SEC_FETCH_SITE="cross-site")
    assert response.status_code == 403


def test_it_takes_a_same_site_referer():
    component = ComponentFactory()
    response = post(browser(), {"component": component.pk}, HTTP_REFERER="http://testserver/")
    assert response.status_code == 303


def test_it_writes_nothing_to_the_database_on_a_report():
    component = ComponentFactory()
    with CaptureQueriesContext(connection) as queries:
        post(browser(), {"component": component.pk})
    assert [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")] == []
