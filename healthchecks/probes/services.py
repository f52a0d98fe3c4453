"""Probe services: configure, hold, claim due probes, run a round, apply its results.

A round: claim the due probes (exclusive, so two workers never run one twice), run them on a
thread pool with no database access, write every result and its metrics in two bulk INSERTs,
save the debounce counters in one bulk UPDATE, and only then take short per-component
transactions for the few probes whose status, alert or certificate warning changes.
"""

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from alerts.models import Alert, AlertEvent, Severity
from alerts.notify import announcements_batched
from alerts.services import alert_raise, alert_resolve
from healthchecks.agents import quorum
from healthchecks.agents.silence import locations_check_silent
from healthchecks.models import OUTAGE_STATUSES, Probe, ProbeResult
from healthchecks.probes.holds import component_set_status_automatic
from healthchecks.probes.http import Outcome, ProbeSpec, execute_all
from monitoring.models import Metric, MetricType
from monitoring.writer import metrics_write
from statuspage.models import Component, ComponentStatus, StatusSource
from statuspage.services import component_set_status

logger = logging.getLogger(__name__)

# A probe due within this many seconds is claimed now: beat's ticks jitter, and a probe due
# 0.2 s after the tick would otherwise wait a whole extra interval.
DUE_GRACE_SECONDS = 2
CERT_THRESHOLDS = (7, 14, 21)  # tightest first
CERT_SEVERITY = {7: Severity.HIGH, 14: Severity.MEDIUM, 21: Severity.LOW}


class ProbeError(Exception):
    """A request the current state does not allow (the API answers 400/409)."""


# --- configuration ------------------------------------------------------------------------


def probe_configure(
    *,
    component: Component,
    probe: Probe | None = None,
    url: str | None = None,
    locations=None,
    **settings_fields,
) -> Probe:
    """Create or update one of a component's probes; `url` (already validated) becomes its
    health_check_url. Without `probe`, an HTTP probe updates the component's one HTTP probe (a
    URL has one) and any other kind is a new probe.

    A changed setting takes effect at the next round: the probe is made due now. `locations`
    (when given) are where agents run it; none: the server runs it itself."""
    fields = {**settings_fields, "next_due_at": timezone.now()}
    with transaction.atomic():
        if url is not None and url != component.health_check_url:
            Component.objects.filter(pk=component.pk).update(health_check_url=url)
            component.health_check_url = url
        if probe is None and fields.get("kind", Probe.Kind.HTTP) == Probe.Kind.HTTP:
            probe = Probe.objects.filter(component=component, kind=Probe.Kind.HTTP).first()
        if probe is None:
            probe = Probe.objects.create(component=component, **fields)
        else:
            for name, value in fields.items():
                setattr(probe, name, value)
            probe.save()
        if locations is not None:
            probe.locations.set(locations)
    return probe


def probe_hold_end_check(*, until: datetime | None, now: datetime | None = None) -> None:
    """The rule for a hold's end, for forms and serializers to check before they save."""
    if until is not None and until <= (now or timezone.now()):
        raise ProbeError("The hold must end in the future.")


def probe_hold(
    *, probe: Probe, until: datetime | None, status: str | None = None, actor=None, note: str = ""
) -> Probe:
    """Hold the component's status against probe results until `until`; the only writer of
    manual_hold_until. With `status`, staff also set the status by hand; without, the current one
    is held. `until=None` sets no end: a manual status then stands until staff change it (and
    without `status` that just clears the timer)."""
    if status is not None and status not in ComponentStatus.values:
        raise ProbeError(f"unknown component status {status!r}")
    probe_hold_end_check(until=until)
    with transaction.atomic():
        if status is not None:
            component_set_status(
                component=probe.component, status=status, source=StatusSource.MANUAL, actor=actor, note=note
            )
        Probe.objects.filter(pk=probe.pk).update(manual_hold_until=until)
        probe.manual_hold_until = until
    return probe


def probe_ensure_for_components(*, now: datetime | None = None) -> int:
    """Give every component that has a health_check_url and no HTTP probe the default one, due now.

    statuspage sits below healthchecks and cannot create the probe where a URL is set (its API
    and admin), so every round starts here: a URL set anywhere is probed from the next round.
    Two rounds at once may both find a component without one; the unique constraint on a
    component's HTTP probe keeps one."""
    missing = list(
        Component.objects.exclude(health_check_url="")
        .exclude(probes__kind=Probe.Kind.HTTP)
        .values_list("pk", flat=True)
    )
    if missing:
        now = now or timezone.now()
        Probe.objects.bulk_create(
            [Probe(component_id=pk, next_due_at=now) for pk in missing], ignore_conflicts=True
        )
        logger.info("default probes created for %d components with a new health_check_url", len(missing))
    return len(missing)


# --- claiming -----------------------------------------------------------------------------


def probes_claim_due(*, now: datetime | None = None, limit: int | None = None) -> list[Probe]:
    """Claim enabled probes that are due, pushing each one's next_due_at one interval ahead.

    PostgreSQL: rows another worker is claiming are skipped (skip_locked), so two run_probes at
    once split the due probes and none runs twice. SQLite: transactions are IMMEDIATE, so the
    second claimant waits and then finds nothing due."""
    now = now or timezone.now()
    limit = limit or settings.PROBE_BATCH_SIZE
    with transaction.atomic():
        probes = list(
            Probe.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("component")
            .filter(enabled=True, next_due_at__lte=now + timedelta(seconds=DUE_GRACE_SECONDS))
            # An HTTP probe of a component whose URL was cleared waits until it has one again.
            .exclude(kind=Probe.Kind.HTTP, component__health_check_url="")
            # Probes assigned to locations are their agents' to run.
            .exclude(pk__in=Probe.locations.through.objects.values("probe_id"))
            .order_by("next_due_at")[:limit]
        )
        by_interval: dict[int, list[int]] = defaultdict(list)
        for probe in probes:
            by_interval[probe.interval_seconds].append(probe.pk)
            probe.next_due_at = now + timedelta(seconds=probe.interval_seconds)
        for interval, ids in by_interval.items():
            Probe.objects.filter(pk__in=ids).update(next_due_at=now + timedelta(seconds=interval))
    return probes


def _spec(probe: Probe, now: datetime) -> ProbeSpec:
    url = probe.component.health_check_url
    return ProbeSpec(
        probe_id=probe.pk,
        url=url,
        kind=probe.kind,
        host=probe.host,
        port=probe.port,
        tls_handshake=probe.tls_handshake,
        record_type=probe.record_type,
        expected_values=tuple(probe.expected_values or ()),
        nameserver=probe.nameserver,
        nameserver_port=probe.nameserver_port,
        method=probe.method,
        request_headers=probe.request_headers,
        request_body=probe.request_body,
        basic_auth_user=probe.basic_auth_user,
        basic_auth_password=probe.basic_auth_password,
        verify_tls=probe.verify_tls,
        expected_status_codes=tuple(probe.expected_status_codes or [200]),
        keyword=probe.keyword,
        json_path=probe.json_path,
        json_value=probe.json_value,
        timeout=probe.timeout_seconds,
        degraded_latency_ms=probe.degraded_latency_ms,
        check_certificate=probe.kind == Probe.Kind.HTTP
        and url.startswith("https://")
        and probe.cert_check_due(now),
    )


# --- recording ----------------------------------------------------------------------------


def metric_source(component: Component) -> str:
    return (slugify(component.name) or f"component-{component.pk}")[:100]


def probe_metrics(
    probe: Probe, ok: bool, latency_ms: float | None, checked_at: datetime, **tags
) -> list[Metric]:
    """The metric points of one probe result: up (1 or 0) and, when measured, the response time;
    `tags` adds to the probe's own (an agent's location)."""
    component = probe.component
    common = {
        "source": metric_source(component),
        "endpoint": probe.target()[:200],
        "tags": {"component_id": component.pk, "probe_id": probe.pk, **tags},
        "timestamp": checked_at,
    }
    points = [
        Metric(
            metric_type=MetricType.APPLICATION,
            category="availability",
            name="probe.up",
            value=1.0 if ok else 0.0,
            unit="bool",
            **common,
        )
    ]
    if latency_ms is not None:
        points.append(
            Metric(
                metric_type=MetricType.PERFORMANCE,
                category="response_time",
                name="probe.response_time",
                value=latency_ms,
                unit="ms",
                **common,
            )
        )
    return points


def probe_results_record(*, probes: dict[int, Probe], outcomes: list[Outcome]) -> None:
    """Store every result and its two metrics: two bulk INSERTs for the whole round."""
    with transaction.atomic():
        _record(probes, outcomes)


def _record(probes: dict[int, Probe], outcomes: list[Outcome]) -> None:
    ProbeResult.objects.bulk_create(
        [
            ProbeResult(
                probe_id=o.probe_id,
                checked_at=o.checked_at,
                ok=o.ok,
                slow=o.slow,
                status_code=o.status_code,
                latency_ms=o.latency_ms,
                error=o.error[:500],
            )
            for o in outcomes
        ],
        batch_size=500,
    )
    metrics_write(
        [m for o in outcomes for m in probe_metrics(probes[o.probe_id], o.ok, o.latency_ms, o.checked_at)]
    )


# --- applying -----------------------------------------------------------------------------


@dataclass
class RoundSummary:
    claimed: int = 0
    ok: int = 0
    slow: int = 0
    failed: int = 0
    status_changes: int = 0
    alerts_raised: int = 0
    alerts_resolved: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.claimed} probes in {self.seconds:.2f} s: {self.ok} ok, {self.slow} slow, "
            f"{self.failed} failed; {self.status_changes} status changes, "
            f"{self.alerts_raised} alerts raised, {self.alerts_resolved} resolved"
        )


class _Graph:
    """The depends_on edges, read once per round."""

    def __init__(self) -> None:
        self.parents: dict[int, set[int]] = defaultdict(set)
        through = Component.depends_on.through
        for child, parent in through.objects.values_list("from_component_id", "to_component_id"):
            self.parents[child].add(parent)

    def ancestors(self, component_id: int) -> set[int]:
        seen: set[int] = set()
        todo = list(self.parents.get(component_id, ()))
        while todo:
            current = todo.pop()
            if current not in seen and current != component_id:
                seen.add(current)
                todo.extend(self.parents.get(current, ()))
        return seen

    def depth(self, component_id: int) -> int:
        return len(self.ancestors(component_id))


def _down_ancestor(graph: _Graph, component_id: int, down_now: set[int]) -> Component | None:
    """The root cause among the components this one depends on (transitively) that are down."""
    ancestors = graph.ancestors(component_id)
    if not ancestors:
        return None
    down = (
        (ancestors & down_now)
        | set(
            Component.objects.filter(pk__in=ancestors, status__in=OUTAGE_STATUSES).values_list(
                "pk", flat=True
            )
        )
        | set(
            Probe.objects.filter(component__in=ancestors, is_down=True).values_list("component_id", flat=True)
        )
    )
    if not down:
        return None
    # Name the root cause: a down component that depends on nothing else that is down.
    roots = {pk for pk in down if not graph.ancestors(pk) & down} or down
    return Component.objects.filter(pk__in=roots).order_by("name").first()


def _set_status(probe: Probe, target: str, outcome: Outcome, now: datetime) -> bool:
    note = (f"probe: {outcome.error}" if outcome.error else f"probe: {outcome.latency_ms:g} ms")[:200]
    if probe.manual_hold_until is not None and probe.manual_hold_until <= now:
        probe.manual_hold_until = None  # cleared by the call below
    return component_set_status_automatic(
        component=probe.component,
        status=target,
        source=StatusSource.PROBE,
        note=note,
        at=outcome.checked_at,
        now=now,
    )


def _alert_down(probe: Probe, outcome: Outcome, graph: _Graph, down_now: set[int], now: datetime) -> None:
    component = probe.component
    root = _down_ancestor(graph, component.pk, down_now)
    hold_reason = f"depends on {root.name}, which is down" if root else ""
    alert_raise(
        fingerprint=probe.fingerprint,
        title=f"{component.name} is down",
        severity=Severity.CRITICAL,
        alert_type=Alert.Type.PROBE,
        message=(
            f"{probe.consecutive_failures} probes in a row failed for {probe.target()}: {outcome.error}"
        ),
        metric="probe.up",
        value=0.0,
        threshold=float(probe.failures_before_down),
        labels={"component": metric_source(component), "component_id": component.pk},
        component=component,
        actor_type=AlertEvent.Actor.SYSTEM,
        hold_reason=hold_reason[:200],
        now=now,
    )


def _alert_recovered(probe: Probe, now: datetime) -> bool:
    alert = Alert.objects.open().filter(fingerprint=probe.fingerprint).first()
    if alert is None:
        return False
    alert_resolve(
        alert=alert,
        note=f"{probe.consecutive_successes} probes in a row succeeded",
        actor_type=AlertEvent.Actor.SYSTEM,
        now=now,
    )
    return True


def cert_fingerprint(probe: Probe, days: int) -> str:
    return f"probe-cert:{probe.pk}:{days}"


def _certificate(probe: Probe, outcome: Outcome, now: datetime, summary: RoundSummary) -> None:
    """Record what the certificate check found; warn at the tightest threshold crossed and
    resolve the looser warnings it supersedes (or all of them once the certificate is renewed)."""
    probe.cert_checked_at = now
    probe.cert_error = outcome.cert_error
    if outcome.cert_expires_at is None:
        return
    probe.cert_expires_at = outcome.cert_expires_at
    probe.cert_days_left = int((outcome.cert_expires_at - now).total_seconds() // 86400)
    crossed = next((days for days in CERT_THRESHOLDS if probe.cert_days_left <= days), None)
    for days in CERT_THRESHOLDS:
        open_alert = Alert.objects.open().filter(fingerprint=cert_fingerprint(probe, days)).first()
        if days == crossed:
            if open_alert is None:
                alert_raise(
                    fingerprint=cert_fingerprint(probe, days),
                    title=f"TLS certificate of {probe.component.name} expires in {probe.cert_days_left} days",
                    severity=CERT_SEVERITY[days],
                    alert_type=Alert.Type.PROBE,
                    message=f"{probe.target()}: certificate "
                    f"valid until {outcome.cert_expires_at:%Y-%m-%d %H:%M} UTC ({days}-day warning).",
                    metric="probe.cert_days_left",
                    value=float(probe.cert_days_left),
                    threshold=float(days),
                    labels={"component": metric_source(probe.component), "certificate": f"{days}d"},
                    component=probe.component,
                    actor_type=AlertEvent.Actor.SYSTEM,
                    now=now,
                )
                summary.alerts_raised += 1
        elif open_alert is not None:
            alert_resolve(
                alert=open_alert,
                note="certificate renewed" if crossed is None else f"superseded by the {crossed}-day warning",
                actor_type=AlertEvent.Actor.SYSTEM,
                now=now,
            )
            summary.alerts_resolved += 1


def _component_targets(probes: list[Probe], current: dict[int, str]) -> dict[int, tuple[str, Probe]]:
    """Per component of this round: the status the quorum of its locations calls for (the
    server's own location being the worst verdict of its enabled probes, those that ran now and
    the stored verdicts of the others; with no agent location that is the whole answer) and the
    probe of this round that calls for it, for the components whose status that would change."""
    ran = {probe.pk: probe.verdict for probe in probes}
    statuses = quorum.component_statuses({probe.component_id for probe in probes}, overrides=ran)
    targets = {}
    for component_id, target in statuses.items():
        if target != current.get(component_id):
            mine = [p for p in probes if p.component_id == component_id]
            targets[component_id] = (target, next((p for p in mine if p.verdict == target), mine[0]))
    return targets


def _still_down_elsewhere(probe: Probe) -> bool:
    """Another probe of the component still finds it down: its alert stays open."""
    return Probe.objects.filter(component_id=probe.component_id, is_down=True).exclude(pk=probe.pk).exists()


def probe_outcomes_apply(*, probes: dict[int, Probe], outcomes: list[Outcome], now: datetime) -> RoundSummary:
    summary = RoundSummary(claimed=len(outcomes))
    current = dict(
        Component.objects.filter(pk__in=[p.component_id for p in probes.values()]).values_list("pk", "status")
    )
    by_probe = {}
    for outcome in outcomes:
        probe = probes[outcome.probe_id]
        probe.component.status = current.get(probe.component_id, probe.component.status)
        probe.count(ok=outcome.ok, slow=outcome.slow)
        summary.ok += outcome.ok and not outcome.slow
        summary.slow += outcome.ok and outcome.slow
        summary.failed += not outcome.ok
        probe.last_checked_at = outcome.checked_at
        probe.last_ok = outcome.ok
        probe.last_status_code = outcome.status_code
        probe.last_latency_ms = outcome.latency_ms
        probe.last_error = outcome.error[:500]
        probe.verdict_update(probe.component.status)
        by_probe[probe.pk] = outcome
    targets = _component_targets([probes[pk] for pk in by_probe], current)
    # A component other locations probe too: its alert follows the quorum, not this server alone.
    by_quorum = quorum.agent_watched({probes[pk].component_id for pk in by_probe})
    actions = []
    for probe_id, outcome in by_probe.items():
        probe = probes[probe_id]
        target, driver = targets.get(probe.component_id, (None, None))
        target = target if driver is probe else None  # a component's status is set once a round
        goes_down = probe.verdict_down() and not probe.is_down
        comes_up = probe.is_down and probe.verdict_up()
        if probe.component_id in by_quorum:
            probe.is_down = probe.verdict_down() or (probe.is_down and not probe.verdict_up())
            goes_down = comes_up = False
            target = None
        if target or goes_down or comes_up or outcome.cert_checked:
            actions.append((probe, outcome, target, goes_down, comes_up))
    if actions:
        # Alerts raised or resolved in one round are announced together, one message per channel.
        with announcements_batched():
            graph = _Graph()
            down_now: set[int] = set()
            # Parents before dependents, so a dependent failing in the same round as the component
            # it depends on already sees it down and holds its alert back.
            for probe, outcome, target, goes_down, comes_up in sorted(
                actions, key=lambda a: graph.depth(a[0].component_id)
            ):
                try:
                    if target and _set_status(probe, target, outcome, now):
                        summary.status_changes += 1
                    # The verdict flips only once its alert is written: if raising fails, the next
                    # round tries again (a repeat only counts on the open alert).
                    if goes_down:
                        down_now.add(probe.component_id)
                        _alert_down(probe, outcome, graph, down_now - {probe.component_id}, now)
                        probe.is_down = True
                        summary.alerts_raised += 1
                    elif comes_up:
                        if not _still_down_elsewhere(probe):
                            summary.alerts_resolved += _alert_recovered(probe, now)
                        probe.is_down = False
                    if outcome.cert_checked:
                        _certificate(probe, outcome, now, summary)
                except Exception as exc:  # one component's failure must not stop the others
                    logger.exception("applying the probe result of component %s failed", probe.component_id)
                    summary.errors.append(f"component {probe.component_id}: {exc}")
    if by_quorum:
        changes, raised, resolved = quorum.quorum_apply(
            quorum.component_statuses(by_quorum, overrides={pk: probes[pk].verdict for pk in by_probe}),
            note="server probes",
            at=now,
            now=now,
        )
        summary.status_changes += changes
        summary.alerts_raised += raised
        summary.alerts_resolved += resolved
    probe_states_save(list(probes.values()))
    return summary


def probe_states_save(probes: list[Probe]) -> None:
    """Write the round's debounce state of every probe: one prepared UPDATE run with executemany.

    Django's bulk_update builds a CASE per field per row, which costs seconds of Python for
    1,000 probes; executemany is a pipeline on PostgreSQL and a tight loop in SQLite."""
    if not probes:
        return
    fields = [Probe._meta.get_field(name) for name in Probe.STATE_FIELDS]
    table = connection.ops.quote_name(Probe._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    rows = [
        [f.get_db_prep_save(getattr(probe, f.attname), connection) for f in fields] + [probe.pk]
        for probe in probes
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", rows)


def probes_run_due(*, now: datetime | None = None, limit: int | None = None) -> RoundSummary:
    """One round: claim what is due, run it, record and apply the results."""
    started = time.perf_counter()
    now = now or timezone.now()
    probe_ensure_for_components(now=now)
    locations_check_silent(now=now)
    claimed = probes_claim_due(now=now, limit=limit)
    if not claimed:
        return RoundSummary(seconds=time.perf_counter() - started)
    specs = [_spec(probe, now) for probe in claimed]
    longest = max(spec.timeout for spec in specs)
    outcomes = execute_all(
        specs,
        concurrency=settings.PROBE_CONCURRENCY,
        round_deadline=max(float(settings.HEALTH_CHECK_INTERVAL), 2 * longest + 1),
    )
    # A probe deleted by staff while it ran has nowhere to store its result.
    alive = set(Probe.objects.filter(pk__in=[p.pk for p in claimed]).values_list("pk", flat=True))
    probes = {probe.pk: probe for probe in claimed if probe.pk in alive}
    outcomes = [o for o in outcomes if o.probe_id in alive]
    probe_results_record(probes=probes, outcomes=outcomes)
    summary = probe_outcomes_apply(probes=probes, outcomes=outcomes, now=timezone.now())
    summary.seconds = time.perf_counter() - started
    return summary


def probe_delete(*, probe: Probe) -> None:
    """Remove a probe with its results. The component keeps its status until something else
    judges it; a component whose URL is set gets its default HTTP probe back at the next round
    (probe_ensure_for_components)."""
    probe.delete()
