"""The database as a configuration document: deterministic (sections in a fixed order, objects
sorted by key, fields in the order of config.configcode.sections), fields left out where they
hold their default, and secrets only as references to environment variables."""

import re
from collections.abc import Callable

import yaml

from config.configcode.desired import digest
from config.configcode.sections import (
    SECTIONS,
    STEP_DEFAULTS,
    VERSION,
    defaults,
    is_secret,
    kept_when_absent,
    read_current,
)
from config.models import SecretReference


def derived_variable(section: str, key: str, field: str) -> str:
    """The variable export names for a secret no reference gave: VIGIL_<SECTION>_<KEY>_<FIELD>."""
    words = re.sub(r"[^A-Za-z0-9]+", "_", f"{section} {key} {field}").strip("_").upper()
    return f"VIGIL_{words}"[:200]


def config_export(*, warn: Callable[[str], None] = lambda text: None) -> str:
    """The YAML document. `warn` hears of every secret exported under a name that no apply gave
    it, or whose value changed since (the admin, say): their variables must be set before the
    document is applied elsewhere. Raises sections.Duplicates where two rows share a name."""
    current = read_current()
    references = {(r.section, r.key, r.field): r for r in SecretReference.objects.all()}
    document: dict = {"version": VERSION}
    for section in SECTIONS:
        name = section.name
        rows = current[name]
        if not rows:
            continue
        default = defaults(name)
        objects = {}
        for key in sorted(rows):
            fields = rows[key].fields
            out = {}
            for spec in section.fields:
                value = fields[spec.name]
                if spec.kind == "secret" and is_secret(name, spec.name, fields):
                    if not value:
                        continue
                    out[spec.name] = {"env": _variable(name, key, spec.name, value, references, warn)}
                    continue
                if kept_when_absent(name, spec.name):
                    continue  # a signing secret of a kind that signs nothing: never exported
                if value == default[spec.name] and not spec.required:
                    continue
                out[spec.name] = _steps(value) if spec.kind == "steps" else value
            objects[key] = out
        document[name] = objects if section.keyed else list(objects.values())
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def _variable(section, key, field, value, references, warn) -> str:
    reference = references.get((section, key, field))
    if reference is None:
        variable = derived_variable(section, key, field)
        warn(
            f"{section}[{key}].{field}: not set from a reference; exported as {{env: {variable}}}: "
            f"set {variable} before applying this document"
        )
        return variable
    if reference.value_digest != digest(value):
        warn(
            f"{section}[{key}].{field}: changed since it was applied from {reference.variable}; "
            f"set {reference.variable} to the new value before applying this document"
        )
    return reference.variable


def _steps(steps: list[dict]) -> list[dict]:
    """Each step without the fields that hold their default; its level always."""
    return [
        {name: value for name, value in step.items() if name == "level" or STEP_DEFAULTS.get(name) != value}
        for step in steps
    ]
