"""The only writers of the on-call rows: schedules with their layers and overrides, calendar feeds.

The admin and the API call these. A schedule is saved whole: its fields, and (when given) the
complete list of its layers and of its overrides, which replace the old ones in one transaction.
Every rule a row can check alone lives on its model (`clean`); these functions run them all and
refuse the save with a ScheduleError naming each field, before anything is written.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.tokens import new_token, token_digest
from oncall.models import CalendarFeed, LayerMember, RotationLayer, Schedule, ScheduleOverride

NO_MEMBERS = "A layer needs at least one person."


class ScheduleError(ValueError):
    """A schedule the services refuse. `errors` maps each field (layers and overrides as
    "layers", with the item's place: "[0].members: ...") to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{name}: {' '.join(texts)}" for name, texts in errors.items()))
        self.errors = errors


@dataclass
class LayerSpec:
    level: int
    starts_on: date
    handoff_time: time
    members: Sequence[AbstractBaseUser]
    rotation: str = RotationLayer.Rotation.WEEKLY
    shift_hours: int | None = None
    name: str = ""
    restrict_weekdays: list[int] = field(default_factory=list)
    restrict_from: time | None = None
    restrict_to: time | None = None

    def row(self, schedule: Schedule) -> RotationLayer:
        values = {name: value for name, value in vars(self).items() if name != "members"}
        return RotationLayer(schedule=schedule, **values)


@dataclass
class OverrideSpec:
    user: AbstractBaseUser
    starts_at: datetime
    ends_at: datetime

    def row(self, schedule: Schedule) -> ScheduleOverride:
        return ScheduleOverride(schedule=schedule, **vars(self))


def _messages(error: ValidationError, where: str = "") -> dict[str, list[str]]:
    prefix = f"{where}." if where else ""
    if hasattr(error, "error_dict"):
        return {f"{prefix}{name}": list(texts) for name, texts in error}
    return {where or "non_field_errors": [str(m) for m in error]}


def _check(row, where: str, exclude: list[str]) -> dict[str, list[str]]:
    try:
        row.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        return _messages(error, where)
    return {}


def _problems(
    schedule: Schedule, layers: Sequence[LayerSpec] | None, overrides: Sequence[OverrideSpec] | None
) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    try:
        schedule.full_clean()
    except ValidationError as error:
        problems.update(_messages(error))
    nested: dict[str, list[str]] = {}
    for index, layer in enumerate(layers or []):
        for name, texts in _check(layer.row(schedule), f"[{index}]", ["schedule"]).items():
            nested.setdefault("layers", []).extend(f"{name}: {text}" for text in texts)
        if not layer.members:
            nested.setdefault("layers", []).append(f"[{index}].members: {NO_MEMBERS}")
    levels = [layer.level for layer in layers or []]
    if len(levels) != len(set(levels)):
        nested.setdefault("layers", []).append("Each layer needs its own level.")
    for index, override in enumerate(overrides or []):
        for name, texts in _check(override.row(schedule), f"[{index}]", ["schedule"]).items():
            nested.setdefault("overrides", []).extend(f"{name}: {text}" for text in texts)
    return {**problems, **nested}


@transaction.atomic
def schedule_save(
    *,
    schedule: Schedule,
    layers: Sequence[LayerSpec] | None = None,
    overrides: Sequence[OverrideSpec] | None = None,
) -> Schedule:
    """Create or update a schedule (a new or changed, unsaved instance). Layers and overrides,
    when given, replace the schedule's own; None keeps them."""
    problems = _problems(schedule, layers, overrides)
    if problems:
        raise ScheduleError(problems)
    schedule.save()
    if layers is not None:
        schedule.layers.all().delete()
        for spec in layers:
            row = spec.row(schedule)
            row.save()
            LayerMember.objects.bulk_create(
                LayerMember(layer=row, user=user, position=position)
                for position, user in enumerate(spec.members)
            )
    if overrides is not None:
        schedule.overrides.all().delete()
        ScheduleOverride.objects.bulk_create(spec.row(schedule) for spec in overrides)
    return schedule


def schedule_delete(*, schedule: Schedule) -> None:
    schedule.delete()


def calendar_feed_issue(*, user: AbstractBaseUser) -> str:
    """A new secret calendar token for the user (the old one stops working at once). The token is
    returned once and kept only as its digest."""
    token = new_token()
    CalendarFeed.objects.update_or_create(
        user=user, defaults={"token_digest": token_digest(token), "issued_at": timezone.now()}
    )
    return token


def calendar_feed_revoke(*, user: AbstractBaseUser) -> bool:
    deleted, _ = CalendarFeed.objects.filter(user=user).delete()
    return bool(deleted)
