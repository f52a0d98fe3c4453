"""Scheduled reports: which period is due, and sending it once through the outbox."""

import base64
import json
from datetime import UTC, datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.services import message_enqueue
from reports.builder import Period, report_build, report_components
from reports.chart import png_bars
from reports.models import Report, ReportRun

CHART_CID = "uptime-chart"


def last_complete_period(frequency: str, now: datetime) -> Period:
    """The newest period of this frequency that has ended (UTC days; weeks start on Monday)."""
    today = now.astimezone(UTC).date()
    if frequency == Report.Frequency.DAILY:
        day = today - timedelta(days=1)
        return Period(day, day)
    if frequency == Report.Frequency.WEEKLY:
        monday = today - timedelta(days=today.weekday())
        return Period(monday - timedelta(days=7), monday - timedelta(days=1))
    first_of_month = today.replace(day=1)
    last = first_of_month - timedelta(days=1)
    return Period(last.replace(day=1), last)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours < 48 else f"{hours // 24} d {hours % 24} h"


def report_context(data: dict, *, name: str) -> dict:
    """The mail's template context: the report as JSON, durations written out, and the chart."""
    plain = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    for incident in plain["incidents"]["listed"]:
        incident["duration"] = _duration(incident["duration_seconds"])
    for severity, figures in plain["response_times"]["by_severity"].items():
        figures["severity"] = severity
        figures["mtta"] = _duration(figures["acknowledge"]["mean_seconds"])
        figures["mttr"] = _duration(figures["resolve"]["mean_seconds"])
    plain["response_times_rows"] = list(plain["response_times"]["by_severity"].values())
    chart = png_bars([day["downtime_minutes"] for day in plain["daily"]])
    return {
        "report_name": name,
        "report": plain,
        "chart_cid": CHART_CID,
        "inline_images": [{"cid": CHART_CID, "subtype": "png", "data": base64.b64encode(chart).decode()}],
    }


def report_send(*, report: Report, period: Period, now: datetime | None = None) -> ReportRun | None:
    """Send one period of a report, once: the (report, period) row is claimed in the same
    transaction as the outbox message, so a second worker or a redelivered task gets the
    IntegrityError and sends nothing, and a failure sends nothing and claims nothing.
    Returns None if the period was already sent."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = ReportRun.objects.create(
                    report=report, period_start=period.first, period_end=period.last, created_at=now
                )
        except IntegrityError:
            return None
        components = report_components([c.pk for c in report.components.all()])
        data = report_build(period, components, now=now)
        span = period.first.isoformat() if period.days == 1 else f"{period.first} to {period.last}"
        run.message = message_enqueue(
            kind="report",
            subject=f"{report.name}: {span}",
            severity="low",
            # The outbox's own dedup as well: the same period never makes a second message.
            dedup_key=f"report:{report.pk}:{period.first.isoformat()}",
            template="report",
            context=report_context(data, name=report.name),
            channels=[],
            emails=report.recipient_list(),
        )
        run.save(update_fields=["message"])
    return run


def reports_send_due(*, now: datetime | None = None) -> str:
    """The beat job: each enabled report's newest complete period, if not sent yet."""
    now = now or timezone.now()
    sent = 0
    for report in Report.objects.filter(enabled=True).prefetch_related("components"):
        period = last_complete_period(report.frequency, now)
        if ReportRun.objects.filter(report=report, period_start=period.first).exists():
            continue
        if report_send(report=report, period=period, now=now) is not None:
            sent += 1
    return f"reports: {sent} sent"
