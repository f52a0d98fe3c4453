"""What the document holds: its sections, each object's fields, and the database read back in
the same shape (the "current state" that export writes and apply compares with).

Every value is canonical here: plain text, numbers, booleans, sorted lists of keys, times as
"HH:MM:SS" and date-times as UTC ISO 8601 with a Z. One shape for both sides is what makes apply
idempotent and export -> apply -> export byte-identical.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Model
from django.utils import timezone

from alerts.models import AlertRule, Silence
from healthchecks.models import Probe
from notifications.models import URL_KINDS, Channel
from oncall.models import EscalationPolicy
from statuspage.models import Component, ComponentGroup, IncidentTemplate


@dataclass(frozen=True)
class Field:
    name: str
    # str, int, float, bool, int?, str?, time, datetime, dict, list, ref, refs, secret,
    # users, schedules, steps, component_statuses
    kind: str
    target: str = ""  # the section a ref / refs names
    required: bool = False


@dataclass(frozen=True)
class Section:
    name: str
    model: type[Model]
    fields: tuple[Field, ...]
    keyed: bool = True  # a mapping by name; False: a list whose key is made of its fields

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def _f(name: str, kind: str = "str", target: str = "", required: bool = False) -> Field:
    return Field(name, kind, target, required)


SECTIONS: tuple[Section, ...] = (
    Section(
        "component_groups",
        ComponentGroup,
        (_f("description"), _f("position", "int"), _f("collapsed", "bool")),
    ),
    Section(
        "components",
        Component,
        (
            _f("description"),
            _f("type"),
            _f("group", "ref", "component_groups"),
            _f("position", "int"),
            _f("health_check_url"),
            _f("show_uptime", "bool"),
            _f("depends_on", "refs", "components"),
        ),
    ),
    Section(
        "channels",
        Channel,
        (
            _f("kind", required=True),
            _f("enabled", "bool"),
            _f("min_severity"),
            _f("recipients"),
            # A secret for the kinds whose URL is their credential (URL_KINDS), plain text otherwise.
            _f("url", "secret"),
            _f("secret", "secret"),
            _f("destination"),
            _f("token", "secret"),
            _f("account_sid"),
            _f("from_number"),
            _f("http_method"),
            _f("content_type"),
            _f("request_headers", "secret"),
            _f("body_template"),
        ),
    ),
    Section(
        "escalation_policies",
        EscalationPolicy,
        (
            _f("description"),
            _f("repeat", "int"),
            _f("drill_weekday", "int?"),
            _f("drill_time", "time"),
            _f("drill_time_zone"),
            _f("steps", "steps"),
        ),
    ),
    Section(
        "alert_rules",
        AlertRule,
        (
            _f("description"),
            _f("metric_type"),
            _f("category"),
            _f("metric_name"),
            _f("source"),
            _f("endpoint"),
            _f("tags", "dict"),
            _f("aggregation"),
            _f("window_minutes", "int"),
            _f("operator"),
            _f("threshold", "float", required=True),
            _f("duration_minutes", "int"),
            _f("keep_firing_for_minutes", "int"),
            _f("no_data"),
            _f("severity"),
            _f("enabled", "bool"),
            _f("channels", "refs", "channels"),
            _f("component", "ref", "components"),
            _f("runbook_url"),
            _f("escalation_policy", "ref", "escalation_policies"),
        ),
    ),
    Section(
        "probes",
        Probe,
        (
            _f("component", "ref", "components", required=True),
            _f("kind"),
            _f("host"),
            _f("port", "int?"),
            _f("tls_handshake", "bool"),
            _f("record_type"),
            _f("expected_values", "list"),
            _f("nameserver", "str?"),
            _f("nameserver_port", "int"),
            _f("method"),
            _f("request_headers", "secret"),
            _f("request_body"),
            _f("basic_auth_user"),
            _f("basic_auth_password", "secret"),
            _f("verify_tls", "bool"),
            _f("expected_status_codes", "list"),
            _f("keyword"),
            _f("json_path"),
            _f("json_value"),
            _f("timeout_seconds", "float"),
            _f("degraded_latency_ms", "int"),
            _f("interval_seconds", "int"),
            _f("failures_before_down", "int"),
            _f("successes_before_up", "int"),
            _f("enabled", "bool"),
        ),
        keyed=False,
    ),
    Section(
        "templates",
        IncidentTemplate,
        (
            _f("title", required=True),
            _f("status"),
            _f("message", required=True),
            _f("impact_override"),
            _f("notify", "bool"),
            _f("components", "component_statuses"),
        ),
    ),
    Section(
        "silences",
        Silence,
        (
            _f("matchers", "list", required=True),
            _f("starts_at", "datetime", required=True),
            _f("ends_at", "datetime", required=True),
            _f("comment"),
        ),
        keyed=False,
    ),
)
SECTION = {s.name: s for s in SECTIONS}
VERSION = 1

STEP_FIELDS = ("level", "escalate_after_minutes", "repeat", "users", "schedules", "channels")
STEP_DEFAULTS = {"escalate_after_minutes": 15, "repeat": 0, "users": [], "schedules": [], "channels": []}


def is_secret(section: str, field: str, fields: dict) -> bool:
    """Whether this field holds a secret for this object (a channel's URL only for URL kinds)."""
    spec = SECTION[section].field(field)
    if spec is None or spec.kind != "secret":
        return False
    if section == "channels" and field == "url":
        return fields.get("kind") in URL_KINDS
    if section == "channels" and field == "secret":
        return fields.get("kind") == Channel.Kind.WEBHOOK
    return True


def kept_when_absent(section: str, field: str) -> bool:
    """A webhook's signing secret has a generated default: left out, the current one stays (a
    new channel gets a fresh one), so a document need not carry it."""
    return section == "channels" and field == "secret"


def object_key(section: str, fields: dict) -> str:
    """The key of an object in a list section, made of the fields that tell it apart."""
    if section == "probes":
        key = f"{fields.get('component')}/{fields.get('kind')}"
        if fields.get("host"):
            key += f"/{fields['host']}"
        if fields.get("port") is not None:
            key += f":{fields['port']}"
        if fields.get("kind") == Probe.Kind.DNS:
            key += f"/{fields.get('record_type')}"
        return key
    matchers = ",".join(
        f"{m.get('label')}{m.get('op')}{m.get('value')}" for m in fields.get("matchers") or []
    )
    return f"{fields.get('starts_at')} {matchers}"


# --- canonical values ---------------------------------------------------------------------


def iso(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "time":
        return value.strftime("%H:%M:%S")
    if kind == "datetime":
        return iso(value)
    if kind == "float":
        return float(value)
    if kind == "refs" or kind in ("users", "schedules"):
        return sorted(value)
    return value


def defaults(section: str) -> dict:
    """Each field's value when the document leaves it out: the model's default, canonical."""
    spec = SECTION[section]
    values = {}
    for field in spec.fields:
        if field.kind in ("refs", "list", "steps") and field.name not in ("expected_status_codes",):
            values[field.name] = []
        elif field.kind in ("dict", "component_statuses"):
            values[field.name] = {}
        elif field.kind == "ref":
            values[field.name] = None
        else:
            model_field = spec.model._meta.get_field(field.name)
            default = model_field.get_default() if model_field.has_default() else None
            if default is None and not model_field.null and field.kind in ("str", "secret"):
                default = ""
            values[field.name] = canonical(field.kind, default)
    return values


# --- the database, read back --------------------------------------------------------------


@dataclass
class Current:
    fields: dict
    instance: Model


def _plain_fields(section: str, row: Model) -> dict:
    values = {}
    for field in SECTION[section].fields:
        if field.kind in (
            "str",
            "int",
            "float",
            "bool",
            "int?",
            "str?",
            "time",
            "datetime",
            "dict",
            "list",
            "secret",
        ):
            values[field.name] = canonical(field.kind, getattr(row, field.name))
    return values


class Duplicates(Exception):
    """Two rows share a name the document would use as their key."""

    def __init__(self, section: str, keys: list[str]) -> None:
        super().__init__(
            f"{section}: more than one row named {', '.join(map(repr, keys))}; rename all but one"
        )
        self.section, self.keys = section, keys


def _by_key(section: str, rows: list[tuple[str, Current]]) -> dict[str, Current]:
    found: dict[str, Current] = {}
    twice = []
    for key, current in rows:
        if key in found:
            twice.append(key)
        found[key] = current
    if twice:
        raise Duplicates(section, sorted(set(twice)))
    return found


def read_current(now: datetime.datetime | None = None) -> dict[str, dict[str, Current]]:
    """Every section as it stands, keyed like the document. Raises Duplicates where a name
    cannot serve as a key."""
    now = now or timezone.now()
    state: dict[str, dict[str, Current]] = {}
    groups = list(ComponentGroup.objects.all())
    state["component_groups"] = _by_key(
        "component_groups", [(g.name, Current(_plain_fields("component_groups", g), g)) for g in groups]
    )
    components = list(Component.objects.select_related("group").prefetch_related("depends_on"))
    rows = []
    for c in components:
        fields = _plain_fields("components", c)
        fields["group"] = c.group.name if c.group else None
        fields["depends_on"] = sorted(d.name for d in c.depends_on.all())
        rows.append((c.name, Current(fields, c)))
    state["components"] = _by_key("components", rows)
    state["channels"] = _by_key(
        "channels", [(ch.name, Current(_plain_fields("channels", ch), ch)) for ch in Channel.objects.all()]
    )
    rows = []
    for policy in EscalationPolicy.objects.prefetch_related(
        "steps__users", "steps__schedules", "steps__channels"
    ):
        fields = _plain_fields("escalation_policies", policy)
        fields["steps"] = [
            {
                "level": step.level,
                "escalate_after_minutes": step.escalate_after_minutes,
                "repeat": step.repeat,
                "users": sorted(u.get_username() for u in step.users.all()),
                "schedules": sorted(s.name for s in step.schedules.all()),
                "channels": sorted(ch.name for ch in step.channels.all()),
            }
            for step in sorted(policy.steps.all(), key=lambda s: s.level)
        ]
        rows.append((policy.name, Current(fields, policy)))
    state["escalation_policies"] = _by_key("escalation_policies", rows)
    rows = []
    for rule in AlertRule.objects.select_related("component", "escalation_policy").prefetch_related(
        "channels"
    ):
        fields = _plain_fields("alert_rules", rule)
        fields["channels"] = sorted(ch.name for ch in rule.channels.all())
        fields["component"] = rule.component.name if rule.component else None
        fields["escalation_policy"] = rule.escalation_policy.name if rule.escalation_policy else None
        rows.append((rule.name, Current(fields, rule)))
    state["alert_rules"] = _by_key("alert_rules", rows)
    rows = []
    for probe in Probe.objects.select_related("component"):
        fields = _plain_fields("probes", probe)
        fields["component"] = probe.component.name
        rows.append((object_key("probes", fields), Current(fields, probe)))
    state["probes"] = _by_key("probes", rows)
    rows = []
    for template in IncidentTemplate.objects.prefetch_related("affected__component"):
        fields = _plain_fields("templates", template)
        fields["components"] = {row.component.name: row.status for row in template.affected.all()}
        rows.append((template.name, Current(fields, template)))
    state["templates"] = _by_key("templates", rows)
    rows = []
    # An ended silence is history, not configuration.
    for silence in Silence.objects.filter(ends_at__gt=now):
        fields = _plain_fields("silences", silence)
        rows.append((object_key("silences", fields), Current(fields, silence)))
    state["silences"] = _by_key("silences", rows)
    return state


def usernames() -> set[str]:
    user_model = get_user_model()
    return set(user_model.objects.filter(is_active=True).values_list(user_model.USERNAME_FIELD, flat=True))
