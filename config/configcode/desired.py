"""The document checked in full and turned into the state it asks for, in the canonical shape
of config.configcode.sections. Nothing here writes; every problem is collected with its line."""

import contextlib
import datetime
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts.rules import alert_rule_check
from config.configcode.document import DocumentInvalid, Node, Problem
from config.configcode.sections import (
    SECTION,
    SECTIONS,
    STEP_DEFAULTS,
    STEP_FIELDS,
    VERSION,
    Current,
    defaults,
    is_secret,
    object_key,
    usernames,
)
from notifications.models import Channel
from oncall.models import Schedule
from statuspage.models import ComponentStatus

VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,199}$")
# What full_clean must not judge in an unsaved row: relations (checked as references here) and
# fields the document does not carry.
NOT_CLEANED = {
    "component_groups": [],
    "components": ["group", "depends_on", "status", "status_source", "status_changed_at"],
    "channels": ["env_key"],
    "escalation_policies": [],
    "alert_rules": ["component", "escalation_policy", "channels"],
    "probes": ["component", "locations", "manual_hold_until", "next_due_at", "verdict"],
    "templates": ["components"],
    "silences": ["author"],
}


@dataclass
class Wanted:
    """One object the document asks for."""

    fields: dict
    given: set[str]
    line: int | None
    lines: dict[str, int | None]
    variables: dict[str, str] = field(default_factory=dict)  # secret field -> variable


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        dict: "a mapping",
        list: "a list",
    }.get(type(value), type(value).__name__)


class _Reader:
    def __init__(self, *, prune: bool, current: dict[str, dict[str, Current]], environ: Mapping[str, str]):
        self.prune = prune
        self.current = current
        self.environ = environ
        self.problems: list[Problem] = []
        self.wanted: dict[str, dict[str, Wanted]] = {s.name: {} for s in SECTIONS}
        # (line, path, section, key) for every reference, checked once all sections are read.
        self.references: list[tuple[int | None, str, str, str]] = []
        self.users: set[str] | None = None
        self.now = timezone.now().astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.schedules: set[str] | None = None

    def problem(self, line: int | None, path: str, message: str) -> None:
        self.problems.append(Problem(line, path, message))

    # --- the document ---------------------------------------------------------------------

    def read(self, root: Node) -> None:
        if not isinstance(root.value, dict):
            self.problem(
                root.line,
                "",
                f"the document is a mapping (version: 1, sections), not {_type_name(root.value)}",
            )
            return
        top = root.value
        version = top.get("version")
        if version is None:
            self.problem(root.line, "version", "missing: the document starts with version: 1")
        elif version.value != VERSION or isinstance(version.value, bool):
            self.problem(
                version.line, "version", f"unsupported version {version.value!r}: this Vigil reads version 1"
            )
        for name, node in top.items():
            if name == "version":
                continue
            section = SECTION.get(name)
            if section is None:
                known = ", ".join(s.name for s in SECTIONS)
                self.problem(
                    root.key_lines.get(name, node.line), name, f"unknown section; the sections are: {known}"
                )
                continue
            if node.value is None:
                continue
            if section.keyed:
                if not isinstance(node.value, dict):
                    self.problem(
                        node.line,
                        name,
                        f"expected a mapping of names to objects, got {_type_name(node.value)}",
                    )
                    continue
                for key, item in node.value.items():
                    self.read_object(name, key, item, line=node.key_lines.get(key))
            else:
                if not isinstance(node.value, list):
                    self.problem(node.line, name, f"expected a list of objects, got {_type_name(node.value)}")
                    continue
                for index, item in enumerate(node.value, start=1):
                    self.read_object(name, None, item, index=index)
        self.check_references()
        self.check_dependencies()

    def read_object(
        self, section: str, key: str | None, node: Node, index: int = 0, line: int | None = None
    ) -> None:
        spec = SECTION[section]
        if key is not None:
            path = f"{section}[{key}]"
            if not key.strip():
                self.problem(node.line, path, "a name cannot be empty")
                return
        else:
            path = f"{section}[{index}]"
        if not isinstance(node.value, dict):
            self.problem(node.line, path, f"expected a mapping of fields, got {_type_name(node.value)}")
            return
        raw = node.value
        if key is None:
            plain = {name: value.plain() for name, value in raw.items()}
            # The key is made of fields that may be wrong themselves; then the index stays.
            with contextlib.suppress(AttributeError, TypeError):
                path = f"{section}[{object_key(section, plain)}]"
        before = len(self.problems)
        fields = defaults(section)
        lines: dict[str, int | None] = {}
        line = line or node.line
        wanted = Wanted(fields=fields, given=set(raw), line=line, lines=lines)
        for name, value in raw.items():
            lines[name] = node.key_lines.get(name, value.line)
            field_spec = spec.field(name)
            if field_spec is None:
                known = ", ".join(f.name for f in spec.fields)
                self.problem(value.line, f"{path}.{name}", f"unknown field; the fields are: {known}")
                continue
            converted = self.convert(section, field_spec, value, f"{path}.{name}", raw, wanted)
            if converted is not _BAD:
                fields[name] = converted
        for field_spec in spec.fields:
            if field_spec.required and field_spec.name not in raw:
                self.problem(line, path, f"missing field {field_spec.name!r}")
        if len(self.problems) > before:
            return
        if key is None:
            key = object_key(section, fields)
            path = f"{section}[{key}]"
        if key in self.wanted[section]:
            first = self.wanted[section][key].line
            self.problem(line, path, f"the same {section[:-1].replace('_', ' ')} as on line {first}")
            return
        self.model_check(section, key, fields, wanted, path)
        if section == "silences" and fields["ends_at"] <= self.now:
            # An ended silence is history, as in export: a document that still lists one after
            # its end neither recreates it nor fails.
            return
        self.wanted[section][key] = wanted

    # --- one field --------------------------------------------------------------------------

    def convert(self, section: str, spec, node: Node, path: str, raw: dict, wanted: Wanted) -> Any:
        value, kind, line = node.value, spec.kind, node.line

        def wrong(expected: str) -> object:
            self.problem(line, path, f"expected {expected}, got {_type_name(value)}")
            return _BAD

        if kind == "str":
            return value if isinstance(value, str) else wrong("text")
        if kind == "str?":
            return value if value is None or isinstance(value, str) else wrong("text or null")
        if kind in ("int", "int?"):
            if value is None and kind == "int?":
                return None
            return (
                value if isinstance(value, int) and not isinstance(value, bool) else wrong("a whole number")
            )
        if kind == "float":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
            return wrong("a number")
        if kind == "bool":
            return value if isinstance(value, bool) else wrong("true or false")
        if kind == "time":
            if not isinstance(value, str):
                return wrong('a time of day as quoted text, "HH:MM:SS"')
            try:
                return datetime.time.fromisoformat(value).strftime("%H:%M:%S")
            except ValueError:
                return wrong('a time of day, "HH:MM:SS"')
        if kind == "datetime":
            return self.convert_datetime(node, path)
        if kind == "dict":
            if not isinstance(value, dict):
                return wrong("a mapping")
            out = {}
            for k, v in value.items():
                if isinstance(v.value, str) or (
                    isinstance(v.value, int | float) and not isinstance(v.value, bool)
                ):
                    out[k] = str(v.value)
                else:
                    self.problem(v.line, f"{path}.{k}", f"expected text, got {_type_name(v.value)}")
                    return _BAD
            return out
        if kind == "list":
            return node.plain() if isinstance(value, list) else wrong("a list")
        if kind == "ref":
            if value is None:
                return None
            if not isinstance(value, str):
                return wrong(f"the name of one of {spec.target}")
            self.references.append((line, path, spec.target, value))
            return value
        if kind == "refs":
            return self.convert_names(node, path, spec.target)
        if kind == "secret":
            return self.convert_secret(section, spec.name, node, path, raw, wanted)
        if kind == "steps":
            return self.convert_steps(node, path)
        if kind == "component_statuses":
            if not isinstance(value, dict):
                return wrong("a mapping of component names to statuses")
            out = {}
            for name, status in value.items():
                self.references.append((status.line, f"{path}.{name}", "components", name))
                if status.value not in ComponentStatus.values:
                    self.problem(
                        status.line,
                        f"{path}.{name}",
                        f"unknown status {status.value!r}; one of {', '.join(ComponentStatus.values)}",
                    )
                    return _BAD
                out[name] = status.value
            return out
        raise AssertionError(kind)

    def convert_datetime(self, node: Node, path: str) -> Any:
        value = node.value
        if isinstance(value, str):
            try:
                value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                self.problem(node.line, path, f"not a date and time: {value!r} (2026-12-04T10:00:00Z)")
                return _BAD
        if not isinstance(value, datetime.datetime):
            self.problem(node.line, path, "expected a date and time such as 2026-12-04T10:00:00Z")
            return _BAD
        if value.tzinfo is None:
            self.problem(node.line, path, "give the time zone too (Z for UTC, or +01:00)")
            return _BAD
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def convert_names(self, node: Node, path: str, target: str) -> Any:
        if not isinstance(node.value, list):
            self.problem(
                node.line, path, f"expected a list of names of {target}, got {_type_name(node.value)}"
            )
            return _BAD
        names = []
        for item in node.value:
            if not isinstance(item.value, str):
                self.problem(
                    item.line, path, f"expected a name of one of {target}, got {_type_name(item.value)}"
                )
                return _BAD
            if item.value in names:
                self.problem(item.line, path, f"{item.value!r} is listed twice")
                return _BAD
            names.append(item.value)
            if target in SECTION:
                self.references.append((item.line, path, target, item.value))
            else:
                self.check_external(item.line, path, target, item.value)
        return sorted(names)

    def check_external(self, line: int | None, path: str, target: str, name: str) -> None:
        if target == "users":
            if self.users is None:
                self.users = usernames()
            if name not in self.users:
                self.problem(line, path, f"no active user {name!r}")
        elif target == "schedules":
            if self.schedules is None:
                self.schedules = set(Schedule.objects.values_list("name", flat=True))
            if name not in self.schedules:
                self.problem(line, path, f"no on-call schedule {name!r}")

    def convert_secret(
        self, section: str, name: str, node: Node, path: str, raw: dict, wanted: Wanted
    ) -> Any:
        kind = raw.get("kind").value if raw.get("kind") is not None else None
        if section == "channels" and name == "secret" and kind != Channel.Kind.WEBHOOK:
            self.problem(node.line, path, "only webhook channels have a signing secret")
            return _BAD
        if not is_secret(section, name, {"kind": kind}):
            if isinstance(node.value, str):
                return node.value
            self.problem(node.line, path, f"expected text, got {_type_name(node.value)}")
            return _BAD
        value = node.value
        if not (isinstance(value, dict) and set(value) == {"env"} and isinstance(value["env"].value, str)):
            self.problem(
                node.line,
                path,
                "a secret is written as {env: VARIABLE_NAME} and read from that environment variable, "
                "never in clear",
            )
            return _BAD
        variable = value["env"].value
        if not VARIABLE.match(variable):
            self.problem(value["env"].line, path, f"{variable!r} is not an environment variable name")
            return _BAD
        if variable not in self.environ:
            self.problem(value["env"].line, path, f"environment variable {variable} is not set")
            return _BAD
        wanted.variables[name] = variable
        return self.environ[variable]

    def convert_steps(self, node: Node, path: str) -> Any:
        if not isinstance(node.value, list):
            self.problem(node.line, path, f"expected a list of steps, got {_type_name(node.value)}")
            return _BAD
        steps = []
        for index, item in enumerate(node.value, start=1):
            where = f"{path}[{index}]"
            if not isinstance(item.value, dict):
                self.problem(item.line, where, f"expected a mapping, got {_type_name(item.value)}")
                return _BAD
            step = dict(STEP_DEFAULTS)
            for name, value in item.value.items():
                if name not in STEP_FIELDS:
                    self.problem(
                        value.line,
                        f"{where}.{name}",
                        f"unknown field; the fields are: {', '.join(STEP_FIELDS)}",
                    )
                    return _BAD
                if name in ("level", "escalate_after_minutes", "repeat"):
                    if not isinstance(value.value, int) or isinstance(value.value, bool) or value.value < 0:
                        self.problem(value.line, f"{where}.{name}", "expected a whole number, 0 or more")
                        return _BAD
                    step[name] = value.value
                else:
                    names = self.convert_names(value, f"{where}.{name}", name)
                    if names is _BAD:
                        return _BAD
                    step[name] = names
            if "level" not in item.value:
                self.problem(item.line, where, "missing field 'level'")
                return _BAD
            steps.append(step)
        return sorted(steps, key=lambda s: s["level"])

    # --- across objects -----------------------------------------------------------------------

    def check_dependencies(self) -> None:
        """A component cannot depend on itself, even through others: a probe round walks the
        dependencies up to find the component whose outage explains another's."""
        graph = {key: c.fields["depends_on"] for key, c in self.current["components"].items()}
        graph.update({key: w.fields["depends_on"] for key, w in self.wanted["components"].items()})
        for key, wanted in self.wanted["components"].items():
            seen, todo = set(), list(graph.get(key, []))
            while todo:
                name = todo.pop()
                if name == key:
                    path = f"components[{key}].depends_on"
                    self.problem(
                        wanted.lines.get("depends_on", wanted.line),
                        path,
                        "a component cannot depend on itself",
                    )
                    break
                if name not in seen:
                    seen.add(name)
                    todo.extend(graph.get(name, []))

    def check_references(self) -> None:
        for line, path, target, name in self.references:
            if name in self.wanted[target]:
                continue
            if not self.prune and name in self.current.get(target, {}):
                continue
            what = target[:-1].replace("_", " ") if target != "escalation_policies" else "escalation policy"
            pruned = (
                " (it is pruned: the document does not list it)"
                if name in self.current.get(target, {})
                else ""
            )
            self.problem(line, path, f"no {what} {name!r}{pruned}")

    def model_check(self, section: str, key: str, fields: dict, wanted: Wanted, path: str) -> None:
        """The model's own checks on an unsaved row with these values (lengths, choices,
        validators, clean()), so the services refuse nothing the check let through."""
        spec = SECTION[section]
        row = spec.model()
        if spec.keyed:
            row.name = key
        for field_spec in spec.fields:
            if field_spec.kind in ("ref", "refs", "steps", "component_statuses"):
                continue
            value = fields[field_spec.name]
            if field_spec.kind == "time" and value is not None:
                value = datetime.time.fromisoformat(value)
            elif field_spec.kind == "datetime" and value is not None:
                value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if (
                field_spec.kind == "secret"
                and field_spec.name not in wanted.given
                and section == "channels"
                and field_spec.name == "secret"
            ):
                continue
            setattr(row, field_spec.name, value)
        try:
            if section == "alert_rules":
                alert_rule_check(row)
            else:
                row.full_clean(
                    exclude=NOT_CLEANED[section], validate_unique=False, validate_constraints=False
                )
            if section == "silences" and row.ends_at <= row.starts_at:
                raise ValidationError({"ends_at": "A silence ends after it starts."})
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                line = wanted.lines.get(name, wanted.line)
                where = path if name in ("__all__", "name") else f"{path}.{name}"
                self.problem(line, where, " ".join(messages))


_BAD = object()


def read_desired(
    root: Node,
    *,
    prune: bool,
    current: dict[str, dict[str, Current]],
    environ: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Wanted]]:
    """What the document asks for, or DocumentInvalid listing every problem with its line."""
    reader = _Reader(prune=prune, current=current, environ=os.environ if environ is None else environ)
    reader.read(root)
    if reader.problems:
        raise DocumentInvalid(sorted(reader.problems, key=lambda p: (p.line or 0, p.path)))
    return reader.wanted
