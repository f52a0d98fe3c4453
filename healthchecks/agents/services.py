"""Agent services: locations and their keys, the probe list an agent pulls, the results it
sends (stored once each, folded into per-location streaks, then the quorum applied) and the
alert of a location that stopped reporting. The admin and the API call these; nothing else
writes the agent models."""

import dataclasses
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from core.tokens import new_token, token_digest
from healthchecks.agents import quorum
from healthchecks.agents.models import AgentKey, ComponentQuorum, ProbeLocation, ProbeLocationState
from healthchecks.agents.silence import location_back
from healthchecks.models import Probe, ProbeResult
from healthchecks.probes.services import _spec, probe_metrics
from monitoring.writer import metrics_write

VERDICTS = ("ok", "slow", "failed")
INSERT_CHUNK = 1000  # rows per INSERT statement: 9 parameters each, well under SQLite's limit


class AgentError(Exception):
    """A request the agent services refuse (the API answers 400)."""


# --- locations and keys -------------------------------------------------------------------


def location_create(*, name: str, slug: str = "") -> ProbeLocation:
    slug = slug or slugify(name)[:50]
    if not slug:
        raise AgentError("The location needs a slug (letters, digits, hyphens).")
    if ProbeLocation.objects.filter(Q(name=name) | Q(slug=slug)).exists():
        raise AgentError(f"A location named {name!r} or with slug {slug!r} exists already.")
    return ProbeLocation.objects.create(name=name, slug=slug)


def location_update(*, location: ProbeLocation, name: str | None = None, slug: str | None = None):
    clash = ProbeLocation.objects.exclude(pk=location.pk)
    if name is not None and clash.filter(name=name).exists():
        raise AgentError(f"A location named {name!r} exists already.")
    if slug is not None and clash.filter(slug=slug).exists():
        raise AgentError(f"A location with slug {slug!r} exists already.")
    location.name = location.name if name is None else name
    location.slug = location.slug if slug is None else slug
    location.save(update_fields=["name", "slug"])
    return location


def agent_key_create(*, location: ProbeLocation, name: str = "", actor=None) -> tuple[AgentKey, str]:
    """A new key for the location's agents: the key itself is returned here only."""
    secret = new_token()
    key = AgentKey.objects.create(
        location=location,
        name=name,
        prefix=secret[:8],
        key_digest=token_digest(secret),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    return key, secret


def agent_key_name(*, key: AgentKey, name: str) -> AgentKey:
    """The agent's host name as it registers; kept on its key so staff see which host uses it."""
    if name and name != key.name:
        AgentKey.objects.filter(pk=key.pk).update(name=name)
        key.name = name
    return key


def agent_key_revoke(*, key: AgentKey, now: datetime | None = None) -> AgentKey:
    AgentKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now or timezone.now())
    key.refresh_from_db(fields=["revoked_at"])
    return key


def agent_key_authenticate(secret: str, *, address: str | None, now: datetime | None = None):
    """The active key with this secret (its last-seen time and address recorded), or None."""
    if not secret:
        return None
    key = (
        AgentKey.objects.select_related("location")
        .filter(key_digest=token_digest(secret), revoked_at__isnull=True)
        .first()
    )
    if key is not None:
        key.last_seen_at = now or timezone.now()
        key.last_seen_address = address
        AgentKey.objects.filter(pk=key.pk).update(last_seen_at=key.last_seen_at, last_seen_address=address)
    return key


# --- the probe list -----------------------------------------------------------------------


def agent_probe_list(location: ProbeLocation, now: datetime | None = None) -> tuple[list[dict], str]:
    """The enabled probes assigned to the location, as the plain settings the agent runs
    (healthchecks.probes.http.ProbeSpec) with each probe's interval, and their ETag."""
    now = now or timezone.now()
    probes = (
        Probe.objects.filter(locations=location, enabled=True)
        .select_related("component")
        .exclude(kind=Probe.Kind.HTTP, component__health_check_url="")
        .order_by("pk")
    )
    listed = []
    for probe in probes:
        spec = dataclasses.asdict(_spec(probe, now))
        spec["check_certificate"] = False  # certificate warnings stay with the server's own probes
        spec["interval_seconds"] = probe.interval_seconds
        listed.append(spec)
    body = json.dumps(listed, sort_keys=True, default=str)
    return listed, '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentResult:
    result_id: uuid.UUID
    probe_id: int
    checked_at: datetime
    verdict: str  # ok, slow or failed
    latency_ms: float | None = None
    status_code: int | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict != "failed"

    @property
    def slow(self) -> bool:
        return self.verdict == "slow"


@dataclass
class IngestSummary:
    accepted: int = 0
    duplicates: int = 0
    ignored: int = 0
    status_changes: int = 0

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _insert_new(rows: list[AgentResult], location_id: int) -> set[uuid.UUID]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING: the ids of the rows this call stored. A
    result another request stored first (a resend, or the same batch posted twice at once)
    is skipped by the unique result_id, and only one of them counts it."""
    table = connection.ops.quote_name(ProbeResult._meta.db_table)
    names = [
        "probe",
        "checked_at",
        "ok",
        "slow",
        "status_code",
        "latency_ms",
        "error",
        "location",
        "result_id",
    ]
    fields = [ProbeResult._meta.get_field(name) for name in names]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    stored: set[uuid.UUID] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            params = []
            for r in chunk:
                values = [
                    r.probe_id,
                    r.checked_at,
                    r.ok,
                    r.slow,
                    r.status_code,
                    r.latency_ms,
                    r.detail[:500],
                    location_id,
                    r.result_id,
                ]
                params.extend(f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholder] * len(chunk))} "
                f"ON CONFLICT DO NOTHING RETURNING {connection.ops.quote_name(fields[-1].column)}",
                params,
            )
            stored.update(uuid.UUID(str(row[0])) for row in cursor.fetchall())
    return stored


def _fold(new: list[AgentResult], location_id: int, probes: dict[int, Probe]) -> None:
    """Fold the new results into the location's streaks, oldest first, under row locks so two
    batches for the same location fold one after the other."""
    pairs = sorted({r.probe_id for r in new})
    ProbeLocationState.objects.bulk_create(
        [ProbeLocationState(probe_id=pk, location_id=location_id) for pk in pairs], ignore_conflicts=True
    )
    states = {
        state.probe_id: state
        for state in ProbeLocationState.objects.select_for_update()
        .filter(location_id=location_id, probe_id__in=pairs)
        .order_by("pk")
    }
    for result in sorted(new, key=lambda r: (r.probe_id, r.checked_at)):
        state = states[result.probe_id]
        if state.last_checked_at is not None and result.checked_at < state.last_checked_at:
            continue  # stored for the history, but older than what the streaks already hold
        # The probe's own rule (Probe.count, Probe.desired_status) on this location's streaks.
        probe = probes[result.probe_id]
        scratch = Probe(
            failures_before_down=probe.failures_before_down,
            successes_before_up=probe.successes_before_up,
            verdict=state.verdict,
            **{name: getattr(state, name) for name in ProbeLocationState.STREAK_FIELDS},
        )
        scratch.count(ok=result.ok, slow=result.slow)
        scratch.verdict_update(probe.component.status)
        for name in ProbeLocationState.STREAK_FIELDS:
            setattr(state, name, getattr(scratch, name))
        state.verdict = scratch.verdict
        state.last_checked_at = result.checked_at
        state.last_ok = result.ok
        state.last_latency_ms = result.latency_ms
        state.last_error = result.detail[:500]
    ProbeLocationState.objects.bulk_update(
        list(states.values()),
        [
            *ProbeLocationState.STREAK_FIELDS,
            "verdict",
            "last_checked_at",
            "last_ok",
            "last_latency_ms",
            "last_error",
        ],
    )


def _metrics(new: list[AgentResult], location: ProbeLocation, probes: dict[int, Probe]) -> None:
    metrics_write(
        [
            point
            for r in new
            for point in probe_metrics(
                probes[r.probe_id], r.ok, r.latency_ms, r.checked_at, location=location.slug
            )
        ]
    )


def agent_results_ingest(
    *, location: ProbeLocation, results: list[AgentResult], now: datetime | None = None
) -> IngestSummary:
    """Store a batch of an agent's results once each, fold the new ones into the location's
    streaks and apply the quorum to the components they are about. Results for probes no
    longer assigned to the location (reassigned or deleted while queued) are ignored."""
    now = now or timezone.now()
    summary = IngestSummary()
    probes = {
        probe.pk: probe
        for probe in Probe.objects.filter(
            locations=location, pk__in={r.probe_id for r in results}
        ).select_related("component")
    }
    wanted = [r for r in results if r.probe_id in probes]
    summary.ignored = len(results) - len(wanted)
    if not wanted:
        return summary
    with transaction.atomic():
        stored = _insert_new(wanted, location.pk)
        new = [r for r in wanted if r.result_id in stored]
        summary.accepted = len(new)
        summary.duplicates = len(wanted) - len(new)
        if new:
            _fold(new, location.pk, probes)
            _metrics(new, location, probes)
            newest = max(r.checked_at for r in new)
            ProbeLocation.objects.filter(pk=location.pk).filter(
                Q(last_result_at__isnull=True) | Q(last_result_at__lt=newest)
            ).update(last_result_at=newest)
    if not new:
        return summary
    location_back(location, now=now)
    components = {probes[r.probe_id].component_id for r in new}
    statuses = quorum.component_statuses(components)
    newest = max(r.checked_at for r in new)
    summary.status_changes, _, _ = quorum.quorum_apply(
        statuses, note=f"agents: latest result from {location.name}", at=newest, now=now
    )
    return summary


def parse_results(items, *, limit: int | None = None) -> list[AgentResult]:
    """Read a batch as the agent sends it; an AgentError names the first bad field."""
    limit = limit or settings.AGENT_BATCH_MAX
    if not isinstance(items, list):
        raise AgentError("results: send a list of results.")
    if len(items) > limit:
        raise AgentError(f"results: at most {limit} results per batch.")
    parsed = []
    for index, item in enumerate(items):
        where = f"results[{index}]"
        if not isinstance(item, dict):
            raise AgentError(f"{where}: each result is an object.")
        try:
            result_id = uuid.UUID(str(item.get("id")))
        except ValueError as exc:
            raise AgentError(f"{where}.id: a UUID.") from exc
        probe_id = item.get("probe")
        if isinstance(probe_id, bool) or not isinstance(probe_id, int) or probe_id < 1:
            raise AgentError(f"{where}.probe: a probe id.")
        checked_at = _parse_time(item.get("checked_at"), f"{where}.checked_at")
        verdict = item.get("verdict")
        if verdict not in VERDICTS:
            raise AgentError(f"{where}.verdict: one of {', '.join(VERDICTS)}.")
        latency = item.get("latency_ms")
        if latency is not None and (
            isinstance(latency, bool) or not isinstance(latency, int | float) or not 0 <= latency < 1e9
        ):
            raise AgentError(f"{where}.latency_ms: milliseconds, or null.")
        code = item.get("status_code")
        if code is not None and (
            isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599
        ):
            raise AgentError(f"{where}.status_code: an HTTP status code, or null.")
        detail = item.get("detail", "")
        if not isinstance(detail, str):
            raise AgentError(f"{where}.detail: text.")
        parsed.append(AgentResult(result_id, probe_id, checked_at, verdict, latency, code, detail[:500]))
    return parsed


def _parse_time(value, where: str) -> datetime:
    if not isinstance(value, str):
        raise AgentError(f"{where}: an ISO 8601 time with its offset.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise AgentError(f"{where}: an ISO 8601 time with its offset.") from exc
    if parsed.tzinfo is None:
        raise AgentError(f"{where}: an ISO 8601 time with its offset.")
    if parsed > timezone.now() + timedelta(minutes=5):
        raise AgentError(f"{where}: in the future (is the agent's clock right?).")
    return parsed


# --- quorum settings ----------------------------------------------------------------------


def quorum_set(*, component, locations_required: int) -> ComponentQuorum:
    """Set (or change) how many locations must agree for the component; one row per component."""
    ComponentQuorum.objects.bulk_create(
        [ComponentQuorum(component=component, locations_required=locations_required)],
        update_conflicts=True,
        unique_fields=["component"],
        update_fields=["locations_required"],
    )
    return ComponentQuorum.objects.get(component=component)


def quorum_clear(*, component) -> None:
    """Back to the default: more than half of the reporting locations."""
    ComponentQuorum.objects.filter(component=component).delete()
