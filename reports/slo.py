"""Availability objectives: attainment, error budget and burn rates, all from the status page's
uptime figures (statuspage.uptime), so an SLO reads the same number the page publishes.

- Window: the last N UTC days, today so far included (the uptime API's `days=N`), or the
  calendar month so far.
- Error budget: (1 − target) × the window's full length (× the number of components, for a
  group, whose components are pooled). Spent: the weighted downtime of the formula.
- Burn rate over a span: its unavailability ÷ (1 − target); 1 spends the budget exactly over
  the window.
- A fast burn is the multi-window rule: 2 % of the budget spent in one hour (confirmed by the
  last 5 minutes), or 5 % in six hours (confirmed by the last 30 minutes). The short window lets
  the alert clear soon after the burn stops.
"""

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from alerts.models import Alert
from alerts.services import alert_raise, alert_resolve
from reports.models import ServiceLevelObjective
from statuspage import uptime
from statuspage.models import Component


@dataclass(frozen=True)
class BurnRule:
    name: str
    long: timedelta
    short: timedelta
    budget_fraction: float


BURN_RULES = (
    BurnRule("1h", timedelta(hours=1), timedelta(minutes=5), 0.02),
    BurnRule("6h", timedelta(hours=6), timedelta(minutes=30), 0.05),
)


def slo_components(slo: ServiceLevelObjective) -> list[Component]:
    if slo.component_id:
        return [slo.component]
    return list(Component.objects.filter(group_id=slo.group_id).order_by("pk"))


def slo_window(slo: ServiceLevelObjective, now: datetime) -> tuple[date, date, float]:
    """(first day, today, the window's full length in seconds)."""
    today = now.astimezone(UTC).date()
    if slo.window == ServiceLevelObjective.Window.CALENDAR_MONTH:
        length = calendar.monthrange(today.year, today.month)[1]
        return today.replace(day=1), today, length * 86400.0
    return today - timedelta(days=slo.window_days - 1), today, slo.window_days * 86400.0


def _burn_rates(components: list[Component], now: datetime, allowed: float) -> dict[timedelta, float | None]:
    """Burn rate over each window ending now, pooled over the components; one replay of the
    longest window per component serves every window."""
    spans = sorted({span for rule in BURN_RULES for span in (rule.long, rule.short)})
    per_component = [uptime.interval_figures(c, [now - span for span in spans], now) for c in components]
    rates = {}
    for i, span in enumerate(spans):
        value = uptime.ratio([figures[i] for figures in per_component])
        rates[span] = None if value is None else (1 - value) / allowed
    return rates


def slo_status(slo: ServiceLevelObjective, *, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    components = slo_components(slo)
    first, today, length = slo_window(slo, now)
    figures = uptime.figures_between(components, first=first, last=today, now=now)
    pooled = [figure for c in components for figure in figures[c.pk]]
    attained = uptime.ratio(pooled)
    _observed, spent = uptime.totals(pooled)
    allowed = 1 - slo.target
    budget = allowed * length * max(len(components), 1)
    burn = {}
    fast = []
    rates = _burn_rates(components, now, allowed)
    for rule in BURN_RULES:
        threshold = rule.budget_fraction * length / rule.long.total_seconds()
        long_rate, short_rate = rates[rule.long], rates[rule.short]
        burn[rule.name] = {
            "burn_rate": None if long_rate is None else round(long_rate, 3),
            "short_window_burn_rate": None if short_rate is None else round(short_rate, 3),
            "threshold": round(threshold, 3),
        }
        if long_rate is not None and short_rate is not None and min(long_rate, short_rate) >= threshold:
            fast.append(rule.name)
    return {
        "id": slo.pk,
        "name": slo.name,
        "component": slo.component_id,
        "group": slo.group_id,
        "target_percentage": float(slo.target_percent),
        "window": slo.window,
        "window_days": slo.window_days if slo.window == ServiceLevelObjective.Window.ROLLING else None,
        "window_start": first.isoformat(),
        "attained_percentage": None if attained is None else round(100 * attained, 4),
        "met": None if attained is None else attained >= slo.target,
        "error_budget_seconds": round(budget, 1),
        "error_budget_spent_seconds": round(spent, 1),
        "error_budget_remaining_percentage": round(100 * (1 - spent / budget), 2) if budget else None,
        "burn_rates": burn,
        "fast_burn": fast,
    }


def slo_evaluate(slo: ServiceLevelObjective, *, now: datetime | None = None) -> str:
    """Raise the SLO's burn alert when a rule holds, resolve it when none does. The caller
    holds the SLO's row lock; the alert's fingerprint keeps it to one open alert even so."""
    now = now or timezone.now()
    status = slo_status(slo, now=now)
    open_alert = Alert.objects.filter(fingerprint=slo.fingerprint).open().first()
    if status["fast_burn"] and open_alert is None:
        rule = next(r for r in BURN_RULES if r.name == status["fast_burn"][0])
        rates = status["burn_rates"][rule.name]
        alert_raise(
            fingerprint=slo.fingerprint,
            title=f"Error budget of {slo.name} burning fast ({rates['burn_rate']:g}× over {rule.name})",
            severity=slo.severity,
            alert_type=Alert.Type.SLO,
            message=(
                f"{rule.budget_fraction:.0%} of the error budget or more was spent in the last {rule.name} "
                f"(target {status['target_percentage']:g} %, "
                f"{status['error_budget_remaining_percentage']} % of the budget left)."
            ),
            metric="slo.burn_rate",
            value=rates["burn_rate"],
            threshold=rates["threshold"],
            labels={"slo": slo.name, "window": rule.name},
            component=slo.component,
            now=now,
        )
        return "raised"
    if not status["fast_burn"] and open_alert is not None:
        alert_resolve(alert=open_alert, note="The burn rate is under both thresholds again.", now=now)
        return "resolved"
    return "unchanged"


def slos_evaluate(*, now: datetime | None = None) -> str:
    """The beat job. Each SLO is evaluated under its row lock, skipped if another worker holds
    it, so two runs at once never evaluate one SLO twice at the same moment."""
    now = now or timezone.now()
    outcomes: dict[str, int] = {}
    for pk in ServiceLevelObjective.objects.filter(burn_alerts=True).values_list("pk", flat=True):
        with transaction.atomic():
            slo = (
                ServiceLevelObjective.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("component")
                .filter(pk=pk)
                .first()
            )
            if slo is None:
                continue
            outcome = slo_evaluate(slo, now=now)
            ServiceLevelObjective.objects.filter(pk=pk).update(last_evaluated_at=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return "slos: " + (", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())) or "none")
