"""The only writers of escalation policies and their steps (admin, API, and the alert rules'
own policies all save through policy_save)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from oncall.models import MAX_STEP_REPEATS, EscalationPolicy, PolicyStep, Schedule


class PolicyError(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{name}: {' '.join(texts)}" for name, texts in errors.items()))
        self.errors = errors


@dataclass
class StepSpec:
    level: int
    escalate_after_minutes: int
    repeat: int = 0
    users: Sequence[AbstractBaseUser] = field(default_factory=list)
    schedules: Sequence[Schedule] = field(default_factory=list)
    channels: Sequence = field(default_factory=list)


def _problems(policy: EscalationPolicy, steps: Sequence[StepSpec] | None) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    try:
        policy.full_clean(validate_unique=True, validate_constraints=False)
    except ValidationError as error:
        problems.update({name: list(texts) for name, texts in error})
    nested = []
    for index, step in enumerate(steps or []):
        if step.level < 1:
            nested.append(f"[{index}].level: A level is 1 or more.")
        if not 0 <= step.repeat <= MAX_STEP_REPEATS:
            nested.append(f"[{index}].repeat: At most {MAX_STEP_REPEATS} repeats.")
        if not (step.users or step.schedules or step.channels):
            nested.append(f"[{index}]: A step notifies at least one user, schedule or channel.")
    levels = [step.level for step in steps or []]
    if len(levels) != len(set(levels)):
        nested.append("Each step needs its own level.")
    if nested:
        problems["steps"] = nested
    return problems


@transaction.atomic
def policy_save(*, policy: EscalationPolicy, steps: Sequence[StepSpec] | None = None) -> EscalationPolicy:
    """Create or update a policy; `steps`, when given, replace its steps (None keeps them)."""
    problems = _problems(policy, steps)
    if problems:
        raise PolicyError(problems)
    policy.save()
    if steps is not None:
        policy.steps.all().delete()
        for spec in steps:
            row = PolicyStep.objects.create(
                policy=policy,
                level=spec.level,
                escalate_after_minutes=spec.escalate_after_minutes,
                repeat=spec.repeat,
            )
            row.users.set(spec.users)
            row.schedules.set(spec.schedules)
            row.channels.set(spec.channels)
    return policy


# However short a policy, a drill gives people this long to answer.
SHORTEST_ANSWER_TIME = timedelta(minutes=5)


def policy_answer_time(policy: EscalationPolicy) -> timedelta:
    """How long a policy goes on paging before it runs out: every step's wait with its repeats,
    for each round of the policy (the first step's wait counts once more, as the time the last
    page gets to be answered)."""
    steps = list(policy.steps.all())
    one_round = sum(step.escalate_after_minutes * (1 + min(step.repeat, MAX_STEP_REPEATS)) for step in steps)
    return max(timedelta(minutes=one_round * (1 + policy.repeat)), SHORTEST_ANSWER_TIME)


def policy_delete(*, policy: EscalationPolicy) -> None:
    policy.delete()


def free_policy_name(name: str, *, exclude: int | None = None) -> str:
    """`name`, or `name (2)`, `name (3)`... when a policy has it already."""
    taken = set(EscalationPolicy.objects.exclude(pk=exclude).values_list("name", flat=True))
    candidate, number = name[:190], 1
    while candidate in taken:
        number += 1
        candidate = f"{name[:190]} ({number})"
    return candidate
