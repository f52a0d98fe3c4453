"""Heartbeat checks: what a ping does, what the sweep finds overdue, and their settings.

The ping endpoints, the API, the admin and the sweep task all call these. A check's state moves
under its row lock (pings on one check queue behind each other, never lose one); the sweep
claims each overdue check with SKIP LOCKED and re-checks it under the lock, so several workers
and a redelivered task raise one alert per down check.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alerts.models import Alert, AlertEvent
from alerts.notify import announcements_batched
from alerts.services import alert_raise, alert_resolve
from healthchecks.pings.buffer import flush_pings
from healthchecks.pings.fast_path import success_ping_fast
from healthchecks.pings.models import Check, Ping
from healthchecks.pings.schedule import next_due
from healthchecks.probes.holds import component_set_status_automatic
from monitoring.models import Metric, MetricType
from monitoring.writer import metrics_write
from statuspage.models import ComponentStatus, StatusSource

MAX_BODY_CHARACTERS = 10_000
SWEEP_BATCH = 500
# The settings of a check staff edit; the state fields are this module's alone.
CHECK_SETTINGS = (
    "name",
    "project",
    "slug",
    "kind",
    "period_seconds",
    "schedule",
    "time_zone",
    "grace_seconds",
    "severity",
    "channels",
    "escalation_policy",
    "component",
    "description",
)


def _due_after(check: Check, at: datetime) -> datetime:
    return next_due(
        kind=check.kind,
        after=at,
        period_seconds=check.period_seconds,
        schedule=check.schedule,
        time_zone=check.time_zone,
    )


def _expect_next(check: Check, after: datetime) -> None:
    check.due_at = _due_after(check, after)
    check.alert_after = check.due_at + check.grace


def _set_component(check: Check, status: str, note: str, at: datetime) -> None:
    if check.component_id:
        component_set_status_automatic(
            component=check.component,
            status=status,
            source=StatusSource.CHECK,
            note=note[:200],
            at=at,
            now=at,
        )


def _went_down(check: Check, message: str, now: datetime) -> None:
    alert_raise(
        fingerprint=check.fingerprint,
        title=f"{check.name} is down",
        severity=check.alert_severity,
        alert_type=Alert.Type.CHECK,
        message=message,
        metric="check.up",
        value=0.0,
        labels={"check": check.name, "check_id": str(check.pk)},
        component=check.component,
        actor_type=AlertEvent.Actor.SYSTEM,
        channels=list(check.channels.all()),
        escalation_policy=check.escalation_policy,
        now=now,
    )
    _set_component(check, ComponentStatus.MAJOR_OUTAGE, f"check: {message}", now)


def _came_back(check: Check, now: datetime) -> None:
    for alert in Alert.objects.open().filter(fingerprint=check.fingerprint):
        alert_resolve(
            alert=alert, note="the job reported success", actor_type=AlertEvent.Actor.SYSTEM, now=now
        )
    _set_component(check, ComponentStatus.OPERATIONAL, "check: the job reported success", now)


def _record_duration(check: Check, ping: Ping) -> None:
    metrics_write(
        [
            Metric(
                metric_type=MetricType.APPLICATION,
                category="job_duration",
                name="check.duration",
                value=ping.duration.total_seconds(),
                unit="s",
                source=check.name[:100],
                tags={"check_id": str(check.pk)},
                timestamp=ping.at,
            )
        ]
    )


def ping_kind(action: str) -> tuple[str, int | None]:
    """The Ping.Kind and exit status of a ping URL's last part ('', 'start', 'fail', 'log' or
    an exit status 0-255); ValueError for anything else."""
    if action in ("", "success"):
        return Ping.Kind.SUCCESS, None
    if action in (Ping.Kind.START, Ping.Kind.FAIL, Ping.Kind.LOG):
        return action, None
    if action.isdigit() and int(action) <= 255:
        status = int(action)
        return (Ping.Kind.SUCCESS if status == 0 else Ping.Kind.FAIL), status
    raise ValueError(f"unknown ping action {action!r}")


def _locked_check(filters: dict) -> Check | None:
    # The lookup and the lock in one query: a ping costs one SELECT ... FOR UPDATE, and
    # pings on one check queue behind each other here.
    return next(iter(Check.objects.select_for_update(of=("self",)).filter(**filters).order_by()[:1]), None)


def check_ping(
    *,
    kind: str,
    check: Check | None = None,
    ping_key=None,
    project_key: str = "",
    slug: str = "",
    exit_status: int | None = None,
    body: str = "",
    method: str = "GET",
    remote_addr: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> Ping | None:
    """Record one report from the job and move the check's state (a log changes nothing).

    The check is `check`, the one of `ping_key`, or the one of `slug` in the project of
    `project_key`; None (nothing recorded) when there is no such check."""
    if check is not None:
        filters = {"pk": check.pk}
    elif ping_key is not None:
        filters = {"ping_key": ping_key}
    else:
        filters = {"project__ping_key": project_key, "slug": slug}
    now = now or timezone.now()
    method, remote_addr, user_agent = method[:8], remote_addr[:64], user_agent[:200]
    body = body[:MAX_BODY_CHARACTERS]
    if kind == Ping.Kind.SUCCESS and ping_key is not None:
        fast = success_ping_fast(
            ping_key=ping_key,
            exit_status=exit_status,
            now=now,
            method=method,
            remote_addr=remote_addr,
            user_agent=user_agent,
            body=body,
        )
        if fast is not None:
            return fast
    with announcements_batched(), transaction.atomic():
        check = _locked_check(filters)
        if check is None:
            return None
        ping = Ping(
            check_ref=check,
            kind=kind,
            exit_status=exit_status,
            at=now,
            method=method,
            remote_addr=remote_addr,
            user_agent=user_agent,
            body=body,
        )
        if kind == Ping.Kind.LOG:
            ping.save(force_insert=True)
            return ping
        was = check.state
        if kind == Ping.Kind.START:
            check.started_at = now
            finish_by = now + check.grace
            check.alert_after = min(check.alert_after, finish_by) if check.alert_after else finish_by
            if was == Check.State.PAUSED:
                check.state = Check.State.NEW
        else:
            if check.started_at is not None:
                ping.duration = now - check.started_at
                check.last_duration = ping.duration
            check.started_at = None
            check.last_ping_at = now
        if kind == Ping.Kind.SUCCESS:
            check.state = Check.State.UP
            _expect_next(check, now)
        elif kind == Ping.Kind.FAIL:
            check.state = Check.State.DOWN
            check.due_at = check.alert_after = None
        ping.save(force_insert=True)
        check.save(update_fields=list(Check.STATE_FIELDS))
        if kind == Ping.Kind.FAIL:
            reason = f"exited with status {exit_status}" if exit_status else "reported failure"
            _went_down(check, f"The job {reason} at {now:%Y-%m-%d %H:%M:%S} UTC.", now)
        elif kind == Ping.Kind.SUCCESS and was == Check.State.DOWN:
            _came_back(check, now)
        if ping.duration is not None:
            _record_duration(check, ping)
    return ping


def _overdue_message(check: Check) -> str:
    if check.started_at is not None and (check.due_at is None or check.started_at < check.due_at):
        return (
            f"The run started at {check.started_at:%Y-%m-%d %H:%M:%S} UTC did not report success or "
            f"failure within its grace time ({check.grace_seconds // 60} min)."
        )
    if check.last_ping_at is None:
        return "No ping has arrived."
    return (
        f"No ping since {check.last_ping_at:%Y-%m-%d %H:%M:%S} UTC; the next was due at "
        f"{check.due_at:%Y-%m-%d %H:%M:%S} UTC (grace {check.grace_seconds // 60} min)."
    )


def checks_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Mark checks whose ping is overdue late, and those past their grace down (one alert each).
    Buffered pings are applied first: a ping that arrived in time never makes a check late."""
    flush_pings()
    now = now or timezone.now()
    late = Check.objects.filter(state=Check.State.UP, due_at__lte=now).update(state=Check.State.LATE)
    watched = (Check.State.NEW, Check.State.UP, Check.State.LATE)
    overdue = Check.objects.filter(state__in=watched, alert_after__lte=now)
    down = 0
    with announcements_batched():
        for pk in list(overdue.order_by("alert_after").values_list("pk", flat=True)[:SWEEP_BATCH]):
            with transaction.atomic():
                # Another sweeper holds it, or a ping came in since: either way not ours now.
                check = (
                    overdue.select_for_update(skip_locked=True, of=("self",))
                    .select_related("component")
                    .filter(pk=pk)
                    .first()
                )
                if check is None:
                    continue
                message = _overdue_message(check)
                check.state = Check.State.DOWN
                check.alert_after = None
                check.save(update_fields=["state", "alert_after"])
                _went_down(check, message, now)
                down += 1
    return {"late": late, "down": down}


def _validated(check: Check) -> Check:
    check.full_clean()
    return check


def check_create(**fields) -> Check:
    unknown = set(fields) - set(CHECK_SETTINGS)
    if unknown:
        raise ValueError(f"not settable: {', '.join(sorted(unknown))}")
    channels = fields.pop("channels", None)
    with transaction.atomic():
        check = _validated(Check(**fields))
        check.save()
        if channels is not None:
            check.channels.set(channels)
    return check


def check_set_channels(*, check: Check, channels) -> None:
    """Where the check's alerts go from now on (an open alert keeps the channels it opened with)."""
    check.channels.set(channels)


def check_update(*, check: Check, **fields) -> Check:
    """Change a check's settings; a running expectation is re-timed from the last ping."""
    unknown = set(fields) - set(CHECK_SETTINGS)
    if unknown:
        raise ValueError(f"not settable: {', '.join(sorted(unknown))}")
    channels = fields.pop("channels", None)
    with transaction.atomic():
        check = Check.objects.select_for_update().get(pk=check.pk)
        for name, value in fields.items():
            setattr(check, name, value)
        _validated(check)
        if channels is not None:
            check_set_channels(check=check, channels=channels)
        if check.state in (Check.State.UP, Check.State.LATE) and check.last_ping_at:
            _expect_next(check, check.last_ping_at)
            check.state = Check.State.LATE if check.due_at <= timezone.now() else Check.State.UP
        check.save()
    return check


def check_pause(*, check: Check) -> Check:
    """Stop watching the check (no alerts) until its next ping or a resume; an open alert is resolved."""
    now = timezone.now()
    with announcements_batched(), transaction.atomic():
        check = Check.objects.select_for_update(of=("self",)).select_related("component").get(pk=check.pk)
        was_down = check.state == Check.State.DOWN
        check.state = Check.State.PAUSED
        check.due_at = check.alert_after = check.started_at = None
        check.save(update_fields=list(Check.STATE_FIELDS))
        for alert in Alert.objects.open().filter(fingerprint=check.fingerprint):
            alert_resolve(alert=alert, note="check paused", actor_type=AlertEvent.Actor.SYSTEM, now=now)
        if was_down:
            _set_component(check, ComponentStatus.OPERATIONAL, "check paused", now)
    return check


def check_resume(*, check: Check) -> Check:
    """Watch a paused check again, as new: it is expected from its next ping on."""
    with transaction.atomic():
        check = Check.objects.select_for_update().get(pk=check.pk)
        if check.state == Check.State.PAUSED:
            check.state = Check.State.NEW
            check.save(update_fields=["state"])
    return check


def builtin_check_ping(*, job: str, interval_seconds: int, now: datetime | None = None) -> None:
    """A Vigil beat job reports that it ran. Its built-in check is made on first use and kept
    in step with the job's interval: due every interval, down after two more (at least
    BUILTIN_CHECKS_MIN_GRACE)."""
    builtin_check_report(
        job=job,
        name=f"Vigil beat job: {job}",
        period_seconds=interval_seconds,
        grace_seconds=max(settings.BUILTIN_CHECKS_MIN_GRACE, 2 * interval_seconds),
        description="Made by Vigil: its beat job reports here each time it runs.",
        now=now,
    )


def builtin_check_report(
    *,
    job: str,
    name: str,
    period_seconds: int,
    grace_seconds: int,
    description: str,
    kind: str = Ping.Kind.SUCCESS,
    body: str = "",
    now: datetime | None = None,
) -> Ping | None:
    """Vigil reports on one of its own jobs (a ping of `kind`) to the built-in check `job`, made
    on first use and kept at the given period and grace."""
    Check.objects.bulk_create(
        [
            Check(
                name=name,
                builtin_job=job,
                period_seconds=period_seconds,
                grace_seconds=grace_seconds,
                severity="high",
                description=description,
            )
        ],
        ignore_conflicts=True,
    )
    Check.objects.filter(builtin_job=job).exclude(
        period_seconds=period_seconds, grace_seconds=grace_seconds
    ).update(period_seconds=period_seconds, grace_seconds=grace_seconds)
    return check_ping(check=Check.objects.get(builtin_job=job), kind=kind, body=body, method="TASK", now=now)
