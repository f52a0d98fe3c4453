"""Making the database match a document: the diff, then every write in one transaction, each
through the owning app's services. Nothing is written unless the whole document is valid, and a
refusal from any service rolls back everything and is reported with the object's line."""

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from alerts import services as alert_services
from alerts.models import AlertRule
from alerts.rules import alert_rule_delete, alert_rule_save
from config.audit import audit_record
from config.configcode.desired import Wanted, digest, read_desired
from config.configcode.document import DocumentInvalid, Node, Problem
from config.configcode.sections import SECTION, SECTIONS, Current, Duplicates, kept_when_absent, read_current
from config.models import AuditEntry, ConfigApply, SecretReference
from healthchecks.models import Probe
from healthchecks.probes.services import ProbeError, probe_configure, probe_delete
from notifications.models import Channel
from notifications.services import channel_delete, channel_save
from oncall.models import EscalationPolicy, Schedule
from oncall.policies import PolicyError, StepSpec, policy_delete, policy_save
from statuspage import catalogue
from statuspage import services as status_services
from statuspage.models import ComponentGroup

PROGRESS_EVERY = 100


@dataclass
class Change:
    action: str  # create, update, delete
    section: str
    key: str
    fields: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        sign = {"create": "+", "update": "~", "delete": "-"}[self.action]
        fields = f": {', '.join(self.fields)}" if self.fields else ""
        return f"{sign} {self.section}[{self.key}]{fields}"

    def as_dict(self) -> dict:
        return {"action": self.action, "section": self.section, "key": self.key, "fields": self.fields}


@dataclass
class Outcome:
    changes: list[Change]
    applied: bool
    dry_run: bool
    prune: bool

    def counts(self) -> dict[str, int]:
        return {a: sum(1 for c in self.changes if c.action == a) for a in ("create", "update", "delete")}

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "prune": self.prune,
            "applied": self.applied,
            "counts": self.counts(),
            "changes": [c.as_dict() for c in self.changes],
        }


class _Rollback(Exception):
    pass


def _references() -> dict[tuple[str, str, str], SecretReference]:
    return {(r.section, r.key, r.field): r for r in SecretReference.objects.all()}


def diff(
    wanted: dict[str, dict[str, Wanted]], current: dict[str, dict[str, Current]], *, prune: bool
) -> list[Change]:
    references = _references()
    changes: list[Change] = []
    for section in SECTIONS:
        name = section.name
        have, want = current[name], wanted[name]
        for key in sorted(want):
            if key not in have:
                changes.append(Change("create", name, key))
                continue
            differs = []
            for f in section.fields:
                if kept_when_absent(name, f.name) and f.name not in want[key].given:
                    continue
                if want[key].fields[f.name] != have[key].fields[f.name]:
                    differs.append(f.name)
                elif f.kind == "secret" and want[key].variables.get(f.name) is not None:
                    stored = references.get((name, key, f.name))
                    if stored is None or stored.variable != want[key].variables[f.name]:
                        differs.append(f.name)
            if differs:
                changes.append(Change("update", name, key, differs))
        if prune:
            changes.extend(Change("delete", name, key) for key in sorted(set(have) - set(want)))
    return changes


def config_apply(
    root: Node,
    *,
    prune: bool = False,
    dry_run: bool = False,
    actor=None,
    via: str = AuditEntry.Via.OTHER,
    environ: Mapping[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_diff: Callable[[list[Change]], None] | None = None,
) -> Outcome:
    """Check the whole document, then make the database match it (or, with dry_run, say what
    that would change). Raises DocumentInvalid listing every problem; nothing is then written."""
    outcome = Outcome(changes=[], applied=False, dry_run=dry_run, prune=prune)
    try:
        with transaction.atomic():
            _one_apply_at_a_time()
            try:
                current = read_current()
            except Duplicates as error:
                raise DocumentInvalid([Problem(None, error.section, str(error))]) from None
            wanted = read_desired(root, prune=prune, current=current, environ=environ)
            outcome.changes = changes = diff(wanted, current, prune=prune)
            if on_diff is not None:
                on_diff(changes)
            if not changes:
                return outcome
            _Writer(wanted, current, changes, actor=actor, progress=progress).run()
            if dry_run:
                # The writes ran (so a service's refusal shows in a dry run too) and are undone.
                raise _Rollback
            counts = outcome.counts()
            record = ConfigApply.objects.create(
                actor=actor,
                actor_name=actor.get_username() if actor is not None else "manage.py apply_config",
                via=via,
                pruned=prune,
                created=counts["create"],
                updated=counts["update"],
                deleted=counts["delete"],
                changes=[c.as_dict() for c in changes],
            )
            audit_record(instance=record, action=AuditEntry.Action.CREATE, actor=actor, via=via)
    except _Rollback:
        return outcome
    outcome.applied = True
    return outcome


# Any constant of our own: the advisory lock's key for "a configuration is being applied".
APPLY_LOCK = 0x76696731


def _one_apply_at_a_time() -> None:
    """Two applies at once would both read "API does not exist" and both create it (component
    names are not unique in the table). On PostgreSQL the second waits for the first to commit
    and then reads what it wrote; SQLite runs one writing transaction at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [APPLY_LOCK])


def _moment(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


class _Writer:
    """The writes, in an order where every reference exists before it is used, deletes last
    (in the reverse order). Each object is written in its own savepoint, so one refusal does
    not hide the next: all are reported, then everything is rolled back."""

    ORDER = [s.name for s in SECTIONS]

    def __init__(self, wanted, current, changes: list[Change], *, actor, progress) -> None:
        self.wanted, self.current, self.changes = wanted, current, changes
        self.actor, self.progress = actor, progress
        self.problems: list[Problem] = []
        self.done = 0
        self.objects: dict[str, dict[str, object]] = {
            name: {key: c.instance for key, c in rows.items()} for name, rows in current.items()
        }

    def run(self) -> None:
        touched = {(c.section, c.key) for c in self.changes if c.action != "delete"}
        for section in self.ORDER:
            for change in self.changes:
                if change.section == section and change.action != "delete":
                    self.write(change)
            if section == "components":
                self.component_dependencies(touched)
        for section in reversed(self.ORDER):
            for change in self.changes:
                if change.section == section and change.action == "delete":
                    self.write(change)
        if self.problems:
            raise DocumentInvalid(self.problems)

    def write(self, change: Change) -> None:
        wanted = self.wanted[change.section].get(change.key)
        line = wanted.line if wanted is not None else None
        path = f"{change.section}[{change.key}]"
        try:
            with transaction.atomic():
                if change.action == "delete":
                    self.delete(change.section, change.key)
                else:
                    self.save(change.section, change.key, wanted)
        except ValidationError as error:
            details = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
            for name, messages in details.items():
                where = f"{path}.{name}" if name and name != "__all__" else path
                at = wanted.lines.get(name, line) if wanted is not None else line
                self.problems.append(Problem(at, where, " ".join(messages)))
        except PolicyError as error:
            for name, messages in error.errors.items():
                self.problems.append(Problem(line, f"{path}.{name}", " ".join(messages)))
        except (
            ValueError,
            ProbeError,
            IntegrityError,
            ObjectDoesNotExist,
            status_services.StatusPageError,
        ) as error:
            self.problems.append(Problem(line, path, f"refused: {error}"))
        self.done += 1
        if self.progress is not None and self.done % PROGRESS_EVERY == 0:
            self.progress(self.done, len(self.changes))

    def ref(self, section: str, key: str | None):
        return None if key is None else self.objects[section][key]

    # --- one object -------------------------------------------------------------------------

    def save(self, section: str, key: str, wanted: Wanted) -> None:
        existing = self.objects[section].get(key)
        values = wanted.fields
        if section == "component_groups":
            row = catalogue.component_group_save(
                group=existing or ComponentGroup(name=key),
                description=values["description"],
                position=values["position"],
                collapsed=values["collapsed"],
            )
        elif section == "components":
            fields = {
                "description": values["description"],
                "type": values["type"],
                "group": self.ref("component_groups", values["group"]),
                "position": values["position"],
                "health_check_url": values["health_check_url"],
                "show_uptime": values["show_uptime"],
            }
            if existing is None:
                row = status_services.component_create(name=key, **fields)
            else:
                row = status_services.component_update(component=existing, **fields)
        elif section == "channels":
            row = existing or Channel(name=key)
            for spec in SECTION["channels"].fields:
                if kept_when_absent(section, spec.name) and spec.name not in wanted.given:
                    continue
                setattr(row, spec.name, values[spec.name])
            row = channel_save(channel=row)
        elif section == "escalation_policies":
            row = existing or EscalationPolicy(name=key)
            for name in ("description", "repeat", "drill_weekday", "drill_time_zone"):
                setattr(row, name, values[name])
            row.drill_time = datetime.time.fromisoformat(values["drill_time"])
            row = policy_save(policy=row, steps=[self.step(step) for step in values["steps"]])
        elif section == "alert_rules":
            fields = {
                spec.name: values[spec.name]
                for spec in SECTION["alert_rules"].fields
                if spec.kind not in ("ref", "refs")
            }
            fields["component"] = self.ref("components", values["component"])
            fields["escalation_policy"] = self.ref("escalation_policies", values["escalation_policy"])
            row = alert_rule_save(
                rule=existing or AlertRule(name=key),
                channels=[self.ref("channels", name) for name in values["channels"]],
                **fields,
            )
        elif section == "probes":
            fields = {
                spec.name: values[spec.name] for spec in SECTION["probes"].fields if spec.name != "component"
            }
            row = probe_configure(
                component=self.ref("components", values["component"]), probe=existing, **fields
            )
        elif section == "templates":
            fields = {
                name: values[name] for name in ("title", "status", "message", "impact_override", "notify")
            }
            components = {
                self.ref("components", name): status for name, status in values["components"].items()
            }
            if existing is None:
                row = status_services.incident_template_create(name=key, components=components, **fields)
            else:
                row = status_services.incident_template_update(
                    template=existing, components=components, **fields
                )
        elif section == "silences":
            starts_at, ends_at = _moment(values["starts_at"]), _moment(values["ends_at"])
            if existing is None:
                row = alert_services.silence_create(
                    matchers=values["matchers"],
                    starts_at=starts_at,
                    ends_at=ends_at,
                    comment=values["comment"],
                    author=self.actor,
                )
            else:
                existing.ends_at, existing.comment = ends_at, values["comment"]
                row = alert_services.silence_update(silence=existing)
        else:
            raise AssertionError(section)
        self.objects[section][key] = row
        self.remember_secrets(section, key, wanted)

    def component_dependencies(self, touched: set[tuple[str, str]]) -> None:
        """Dependencies once every component exists, since they may name one further down."""
        for key, wanted in self.wanted["components"].items():
            current = self.current["components"].get(key)
            if ("components", key) not in touched and current is not None:
                continue
            if current is not None and current.fields["depends_on"] == wanted.fields["depends_on"]:
                continue
            if not wanted.fields["depends_on"] and current is None:
                continue
            status_services.component_update(
                component=self.objects["components"][key],
                depends_on=[self.objects["components"][name] for name in wanted.fields["depends_on"]],
            )

    def step(self, step: dict) -> StepSpec:
        from django.contrib.auth import get_user_model

        user_model = get_user_model()
        return StepSpec(
            level=step["level"],
            escalate_after_minutes=step["escalate_after_minutes"],
            repeat=step["repeat"],
            users=list(user_model.objects.filter(**{f"{user_model.USERNAME_FIELD}__in": step["users"]})),
            schedules=list(Schedule.objects.filter(name__in=step["schedules"])),
            channels=[self.ref("channels", name) for name in step["channels"]],
        )

    def delete(self, section: str, key: str) -> None:
        row = self.objects[section][key]
        if section == "component_groups":
            catalogue.component_group_delete(group=row)
        elif section == "components":
            catalogue.component_delete(component=row)
        elif section == "channels":
            channel_delete(channel=row)
        elif section == "escalation_policies":
            policy_delete(policy=row)
        elif section == "alert_rules":
            alert_rule_delete(rule=row)
        elif section == "probes":
            if Probe.objects.filter(pk=row.pk).exists():  # gone already with its component
                probe_delete(probe=row)
        elif section == "templates":
            status_services.incident_template_delete(template=row)
        elif section == "silences":
            # A silence is never deleted: ended now, it stays the record of why alerts were quiet.
            alert_services.silence_expire(silence=row, now=timezone.now())
        references_forget(section=section, key=key)

    def remember_secrets(self, section: str, key: str, wanted: Wanted) -> None:
        for spec in SECTION[section].fields:
            if spec.kind != "secret":
                continue
            variable = wanted.variables.get(spec.name)
            if variable is None:
                if not kept_when_absent(section, spec.name):
                    SecretReference.objects.filter(section=section, key=key, field=spec.name).delete()
                continue
            reference_remember(
                section=section, key=key, field=spec.name, variable=variable, value=wanted.fields[spec.name]
            )


# --- the secret references (config's own rows) -----------------------------------------------


def reference_remember(*, section: str, key: str, field: str, variable: str, value: str) -> None:
    SecretReference.objects.update_or_create(
        section=section,
        key=key,
        field=field,
        defaults={"variable": variable, "value_digest": digest(value), "updated_at": timezone.now()},
    )


def references_forget(*, section: str, key: str) -> None:
    SecretReference.objects.filter(section=section, key=key).delete()
