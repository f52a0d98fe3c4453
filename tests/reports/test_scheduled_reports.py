"""Scheduled reports: the period that is due, sent once through the outbox, as HTML and plain
text with the chart inline, to a real SMTP server on loopback."""

import pytest

from alerts.services import alert_acknowledge, alert_raise
from notifications.models import Message
from notifications.services import deliveries_send_due
from reports.builder import Period
from reports.models import Report, ReportRun
from reports.services import last_complete_period, reports_send_due
from statuspage.services import incident_create
from statuspage.uptime import uptime_rollup
from tests.notifications.conftest import smtp  # noqa: F401  (the fixture)
from tests.reports.conftest import at, set_status
from tests.reports.factories import ObjectiveFactory, ReportFactory
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("frequency", "now", "first", "last"),
    [
        ("daily", "2026-03-01 00:05", "2026-02-28", "2026-02-28"),
        ("weekly", "2026-03-04 08:00", "2026-02-23", "2026-03-01"),
        ("monthly", "2026-03-01 00:05", "2026-02-01", "2026-02-28"),
        ("monthly", "2026-01-15 12:00", "2025-12-01", "2025-12-31"),
    ],
)
def test_it_picks_the_newest_complete_period(frequency, now, first, last):
    assert last_complete_period(frequency, at(now)) == Period(
        at(f"{first} 00:00").date(), at(f"{last} 00:00").date()
    )


@pytest.fixture
def february():
    component = ComponentFactory(name="Checkout API", created_at=at("2026-01-01 00:00"), status="operational")
    set_status(component, "major_outage", "2026-02-10 06:00")
    set_status(component, "operational", "2026-02-10 07:00")
    incident_create(
        title="Checkout errors",
        message="Investigating",
        components={component: "major_outage"},
        started_at=at("2026-02-10 06:00"),
        notify=False,
    )
    raised = alert_raise(fingerprint="checkout", title="5xx", severity="critical", now=at("2026-02-10 06:01"))
    alert_acknowledge(alert=raised.alert, now=at("2026-02-10 06:11"))
    ObjectiveFactory(component=component, name="Checkout 99.9")
    return component


def test_it_mails_the_monthly_report_once_as_html_and_text_with_the_chart(smtp, clock, february):  # noqa: F811
    ReportFactory(recipients="ops@example.com")
    clock.move_to("2026-03-01 00:05")
    uptime_rollup()
    assert reports_send_due() == "reports: 1 sent"
    assert reports_send_due() == "reports: 0 sent"
    deliveries_send_due()
    (mail,) = smtp.messages
    assert mail["To"] == "ops@example.com" and "2026-02-01 to 2026-02-28" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    # 1 h of major outage out of 28 days: 99.85 %, the page's formula.
    assert "Checkout API: 99.85 %, 60.0 min down" in text
    assert "Checkout errors (critical, 18 d 18 h, still open)" in text
    assert "critical: 1 alerts, MTTA 10 min" in text
    assert "Checkout 99.9: 99.8512 % of 99.9 % (MISSED)" in text
    html = mail.get_body(("html",)).get_content()
    assert 'src="cid:uptime-chart"' in html
    (image,) = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<uptime-chart>"
    assert image.get_content().startswith(b"\x89PNG\r\n\x1a\n")


def test_it_sends_a_period_once_when_the_job_runs_twice(clock, february):
    report = ReportFactory(frequency=Report.Frequency.DAILY)
    clock.move_to("2026-02-11 00:01")
    reports_send_due()
    reports_send_due()
    assert ReportRun.objects.filter(report=report).count() == 1
    message = Message.objects.get(kind="report")
    assert message.deliveries.count() == 2  # the factory's two recipients


def test_it_sends_the_next_period_when_it_has_ended(clock, february):
    report = ReportFactory(frequency=Report.Frequency.DAILY)
    for day in ("2026-02-11", "2026-02-12"):
        clock.move_to(f"{day} 00:01")
        reports_send_due()
    assert list(report.runs.order_by("period_start").values_list("period_start", flat=True)) == [
        at("2026-02-10 00:00").date(),
        at("2026-02-11 00:00").date(),
    ]


def test_it_sends_the_last_period_from_the_admin_once(admin_client, clock, february):
    report = ReportFactory()
    clock.move_to("2026-03-02 00:00")
    for _ in range(2):
        response = admin_client.post(
            "/admin/reports/report/",
            {"action": "send_last_period", "_selected_action": [report.pk]},
            follow=True,
        )
    assert "0 reports sent, 1 already sent" in response.content.decode()
    assert Message.objects.filter(kind="report").count() == 1


def test_it_gives_the_whole_report_in_the_api(api, clock, february):
    clock.move_to("2026-03-01 00:05")
    uptime_rollup()
    body = api.get("/api/operations/reports/summary", {"from": "2026-02-01", "to": "2026-02-28"}).json()
    assert body["components"][0]["downtime_minutes"] == 60.0
    assert body["incidents"]["listed"][0]["title"] == "Checkout errors"
    assert body["alerts_by_severity"]["critical"] == 1
    assert body["response_times"]["by_severity"]["critical"]["acknowledge"]["mean_seconds"] == 600.0
    assert body["slos"][0]["met"] is False
