"""On-call coverage: the hours ahead in which an urgent rule's page would reach nobody.

For every enabled critical or high alert rule with an escalation policy, an hour is covered when,
for the whole hour, some step of the policy names a person who can be paged: a step's own users,
or whoever is on call in a step's schedules, with a verified contact method in their high-urgency
rules that this installation can send to. Channels do not count: a channel is not a person who
acknowledges. `manage.py check_oncall` lists the uncovered hours and exits non-zero; the daily
beat job of the same name raises (and later resolves) one alert about them.
"""

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from alerts.models import Alert, AlertEvent, AlertRule, Severity
from alerts.services import AlertTransitionError, alert_raise, alert_resolve
from oncall import resolver
from oncall.models import EscalationPolicy, PolicyStep, Urgency
from oncall.people import delivery_target
from oncall.queries import paging_plans, schedule_plans

HORIZON = timedelta(days=14)
HOUR = timedelta(hours=1)
URGENT = (Severity.CRITICAL, Severity.HIGH)
ALERT_FINGERPRINT = "oncall-coverage"


@dataclass
class PolicyGaps:
    policy: EscalationPolicy
    rules: list[str]
    hours: list[datetime] = field(default_factory=list)  # each uncovered hour's start (UTC)

    def ranges(self) -> list[tuple[datetime, datetime]]:
        """The uncovered hours as runs: (first hour's start, last hour's end)."""
        runs: list[tuple[datetime, datetime]] = []
        for hour in self.hours:
            if runs and runs[-1][1] == hour:
                runs[-1] = (runs[-1][0], hour + HOUR)
            else:
                runs.append((hour, hour + HOUR))
        return runs


def _reachable(user_ids: set[int]) -> set[int]:
    """The people a high-urgency page reaches: a verified method Vigil can send to."""
    plans = paging_plans(user_ids) if user_ids else {}
    sendable: dict[str, bool] = {}  # whether Vigil can send to a kind depends on the kind alone
    reachable = set()
    for user_id, plan in plans.items():
        for step in plan.get(Urgency.HIGH, []):
            if step.kind not in sendable:
                sendable[step.kind] = delivery_target(step.kind, step.address) is not None
            if sendable[step.kind]:
                reachable.add(user_id)
                break
    return reachable


def _covered_spans(steps: list[PolicyStep], plans: dict, reachable: set[int], start, end) -> list:
    spans = []
    for step in steps:
        for schedule in step.schedules.all():
            for shift in resolver.timeline(plans[schedule.pk], start, end):
                if shift.user_id in reachable:
                    spans.append((shift.starts_at, shift.ends_at))
    return sorted(spans)


def _uncovered_hours(spans: list, start: datetime, end: datetime) -> list[datetime]:
    """The hours from start to end not wholly inside the union of the spans."""
    merged: list[list[datetime]] = []
    for begin, finish in spans:
        if merged and begin <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], finish)
        else:
            merged.append([begin, finish])
    hours, hour = [], start
    while hour < end:
        if not any(begin <= hour and hour + HOUR <= finish for begin, finish in merged):
            hours.append(hour)
        hour += HOUR
    return hours


def coverage_gaps(*, now: datetime | None = None, horizon: timedelta = HORIZON) -> list[PolicyGaps]:
    """Every urgent rule's policy with the hours (from the current hour on) nobody is reachable."""
    now = now or timezone.now()
    start = now.replace(minute=0, second=0, microsecond=0)
    end = start + horizon
    rules = AlertRule.objects.filter(enabled=True, severity__in=URGENT, escalation_policy__isnull=False)
    by_policy: dict[int, list[str]] = {}
    for policy_id, name in rules.order_by("name").values_list("escalation_policy", "name"):
        by_policy.setdefault(policy_id, []).append(name)
    policies = EscalationPolicy.objects.filter(pk__in=by_policy).prefetch_related(
        "steps__users", "steps__schedules"
    )
    steps_of = {policy.pk: list(policy.steps.all()) for policy in policies}
    schedules = {s.pk: s for steps in steps_of.values() for step in steps for s in step.schedules.all()}
    plans = schedule_plans(schedules.values(), start=start, end=end) if schedules else {}
    people = {u.pk for steps in steps_of.values() for step in steps for u in step.users.all() if u.is_active}
    for plan in plans.values():
        people |= {user_id for layer in plan.layers for user_id in layer.members}
        people |= {override.user_id for override in plan.overrides}
    reachable = _reachable(people)
    found = []
    for policy in policies:
        steps = steps_of[policy.pk]
        if any(u.pk in reachable for step in steps for u in step.users.all() if u.is_active):
            continue  # someone named outright is always paged
        spans = _covered_spans(steps, plans, reachable, start, end)
        hours = _uncovered_hours(spans, start, end)
        if hours:
            found.append(PolicyGaps(policy, by_policy[policy.pk], hours))
    return found


def coverage_report(gaps: list[PolicyGaps]) -> str:
    lines = []
    for gap in gaps:
        lines.append(
            f"Policy {gap.policy.name} (rules: {', '.join(gap.rules)}): {len(gap.hours)} hour(s) "
            "in which a page reaches nobody with a verified contact method"
        )
        for begin, finish in gap.ranges():
            lines.append(f"  {begin:%Y-%m-%d %a %H:%M} - {finish:%Y-%m-%d %a %H:%M} UTC")
    return "\n".join(lines)


def coverage_alert(*, now: datetime | None = None) -> list[PolicyGaps]:
    """Raise the coverage alert while there are gaps; resolve it once there are none."""
    now = now or timezone.now()
    gaps = coverage_gaps(now=now)
    if gaps:
        total = sum(len(gap.hours) for gap in gaps)
        alert_raise(
            fingerprint=ALERT_FINGERPRINT,
            title=f"On-call coverage: {total} hour(s) in the next 14 days page nobody",
            severity=Severity.HIGH,
            alert_type=Alert.Type.META,
            message=coverage_report(gaps),
            actor_type=AlertEvent.Actor.SYSTEM,
            now=now,
        )
        return gaps
    for alert in Alert.objects.filter(fingerprint=ALERT_FINGERPRINT).open():
        with contextlib.suppress(AlertTransitionError):  # resolved meanwhile
            alert_resolve(alert=alert, note="Every urgent rule's policy reaches someone again.", now=now)
    return gaps
