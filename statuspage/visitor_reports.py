"""Visitor trouble reports: what they count, and how many there were.

A report is a count, never a row: monitoring's in-memory counters take it and write one
Metric row per (component, problem) and flush interval (monitoring/counters.py), so a surge of
reports during an outage costs no INSERT per report. Nothing about the visitor is kept: no
address, no user agent, no cookie. The rows' tags are the labels: `component` (a component's
id, or OTHER for "something else") and `problem` (one of PROBLEMS, or UNSPECIFIED).
"""

from datetime import datetime, timedelta

from django.db.models import Sum
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.translation import gettext_noop

from monitoring.counters import CounterKind
from monitoring.models import Metric, MetricType

METRIC_NAME = "statuspage.visitor_reports"
KIND = CounterKind(name=METRIC_NAME, metric_type=MetricType.APPLICATION, category="visitor_reports", unit="")
OTHER = "other"  # "something else": no component named
UNSPECIFIED = "unspecified"
# What a visitor may say went wrong (the form's choices), in the order the form shows them.
PROBLEMS = {
    "cant_load": gettext_noop("It doesn't load"),
    "slow": gettext_noop("It's slow"),
    "errors": gettext_noop("I get errors"),
}
# One counted report per visitor, component and this many seconds: the default rule's window,
# so one visitor is one report in it however often they press the button.
REPORT_DEDUP_SECONDS = 300


def visitor_report_counts(*, since: datetime, until: datetime | None = None) -> dict[str, int]:
    """Reports per component label (a component id as text, or OTHER) in [since, until]: one
    grouped query over the metric's (name, timestamp) index. Reports still in a process's
    memory (up to one flush interval) are not in it yet."""
    until = until or timezone.now()
    rows = (
        Metric.objects.filter(name=METRIC_NAME, timestamp__gte=since, timestamp__lte=until)
        .annotate(component=KeyTextTransform("component", "tags"))
        .values("component")
        .annotate(total=Sum("value"))
        .order_by()
    )
    return {row["component"]: int(row["total"] or 0) for row in rows if row["component"]}


def visitor_report_counts_last(*, minutes: int, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    return visitor_report_counts(since=now - timedelta(minutes=minutes), until=now)
