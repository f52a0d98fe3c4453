"""Reading schedules into resolver plans: a few queries for any number of schedules, after which
every lookup is pure computation (oncall.resolver)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser

from core.tokens import token_digest
from oncall import resolver
from oncall.models import (
    CalendarFeed,
    ContactMethod,
    LayerMember,
    NotificationRule,
    RotationLayer,
    Schedule,
    ScheduleOverride,
    Urgency,
)


def _layer(row: RotationLayer, members: tuple[int, ...]) -> resolver.Layer:
    return resolver.Layer(
        level=row.level,
        members=members,
        rotation=row.rotation,
        shift_hours=row.shift_hours,
        starts_on=row.starts_on,
        handoff=row.handoff_time,
        weekdays=frozenset(row.restrict_weekdays),
        covers_from=row.restrict_from,
        covers_to=row.restrict_to,
    )


def schedule_plans(
    schedules: Iterable[Schedule], *, start: datetime, end: datetime
) -> dict[int, resolver.Plan]:
    """Plans by schedule id, good for lookups from start to end (the overrides in that window):
    three queries, however many schedules."""
    schedules = list(schedules)
    ids = [schedule.pk for schedule in schedules]
    members: dict[int, list[int]] = {}
    for layer_id, user_id in (
        LayerMember.objects.filter(layer__schedule__in=ids).order_by("position").values_list("layer", "user")
    ):
        members.setdefault(layer_id, []).append(user_id)
    layers: dict[int, list[resolver.Layer]] = {}
    for row in RotationLayer.objects.filter(schedule__in=ids):
        layers.setdefault(row.schedule_id, []).append(_layer(row, tuple(members.get(row.pk, ()))))
    overrides: dict[int, list[resolver.Override]] = {}
    window = ScheduleOverride.objects.filter(schedule__in=ids, ends_at__gt=start, starts_at__lt=end)
    for schedule_id, pk, user_id, starts_at, ends_at in window.values_list(
        "schedule", "pk", "user", "starts_at", "ends_at"
    ):
        overrides.setdefault(schedule_id, []).append(resolver.Override(user_id, starts_at, ends_at, order=pk))
    return {
        schedule.pk: resolver.Plan(
            zone=ZoneInfo(schedule.time_zone),
            layers=tuple(layers.get(schedule.pk, ())),
            overrides=tuple(overrides.get(schedule.pk, ())),
        )
        for schedule in schedules
    }


def schedule_plan(schedule: Schedule, *, start: datetime, end: datetime) -> resolver.Plan:
    return schedule_plans([schedule], start=start, end=end)[schedule.pk]


def who_is_on_call(schedule: Schedule, at: datetime) -> AbstractBaseUser | None:
    """The person on call in a schedule at an instant, or None (nobody: a gap)."""
    plan = schedule_plan(schedule, start=at, end=at + timedelta(microseconds=1))
    user_id = resolver.on_call(plan, at)
    return None if user_id is None else get_user_model().objects.filter(pk=user_id).first()


def calendar_feed_owner(token: str) -> AbstractBaseUser | None:
    """The active person a calendar token belongs to, or None (unknown, revoked or inactive)."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_digest=token_digest(token), user__is_active=True)
        .first()
    )
    return feed.user if feed else None


def schedule_timelines(
    schedules: Iterable[Schedule], *, start: datetime, end: datetime
) -> dict[int, list[resolver.Shift]]:
    plans = schedule_plans(schedules, start=start, end=end)
    return {pk: resolver.timeline(plan, start, end) for pk, plan in plans.items()}


def user_names(user_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {pk for pk in user_ids if pk is not None}
    return dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))


# How far ahead "next on call" looks: further than any shift a rotation would plan.
NEXT_HORIZON = timedelta(days=35)


@dataclass(frozen=True)
class NowAndNext:
    schedule: Schedule
    now: resolver.Shift  # user_id None: nobody is on call now
    next: resolver.Shift | None  # the next person's shift; None: nobody within NEXT_HORIZON
    # The next stretch with nobody on call after now (now itself when it is a gap); None: none
    # within NEXT_HORIZON.
    next_gap: resolver.Shift | None = None


def on_call_now_and_next(schedules: Iterable[Schedule], at: datetime) -> list[NowAndNext]:
    schedules = list(schedules)
    timelines = schedule_timelines(schedules, start=at, end=at + NEXT_HORIZON)
    answers = []
    for schedule in schedules:
        now, *later = timelines[schedule.pk]
        upcoming = next((shift for shift in later if shift.user_id is not None), None)
        gap = now if now.user_id is None else next((s for s in later if s.user_id is None), None)
        answers.append(NowAndNext(schedule, now, upcoming, gap))
    return answers


# --- paging: how to reach each person ---------------------------------------------------------


@dataclass(frozen=True)
class PageStep:
    """Reach a person `delay_minutes` after the page, by this (verified) contact method."""

    delay_minutes: int
    method_id: int
    kind: str
    address: str


def paging_plans(user_ids: Iterable[int]) -> dict[int, dict[str, list[PageStep]]]:
    """Per person and urgency, the steps of their own rules that use a verified method. A person
    with no rule for an urgency gets the default: every verified e-mail method, at once. Two
    queries, however many people; unverified methods never appear."""
    ids = set(user_ids)
    methods = {
        m.pk: m
        for m in ContactMethod.objects.filter(user__in=ids, user__is_active=True, verified_at__isnull=False)
    }
    plans: dict[int, dict[str, list[PageStep]]] = {pk: {} for pk in {m.user_id for m in methods.values()}}
    rules = list(
        NotificationRule.objects.filter(user__in=ids)
        .order_by("delay_minutes", "pk")
        .values_list("user", "urgency", "contact_method", "delay_minutes")
    )
    has_rules = {(user_id, urgency) for user_id, urgency, _, _ in rules}
    for user_id, urgency, method_id, delay in rules:
        method = methods.get(method_id)
        if method is not None:
            plans[user_id].setdefault(urgency, []).append(
                PageStep(delay, method.pk, method.kind, method.address)
            )
    for method in sorted(methods.values(), key=lambda m: m.pk):
        if method.kind == ContactMethod.Kind.EMAIL:
            for urgency in Urgency.values:
                defaults = plans[method.user_id].setdefault(f"default:{urgency}", [])
                defaults.append(PageStep(0, method.pk, method.kind, method.address))
    for user_id, plan in plans.items():
        for urgency in Urgency.values:
            default = plan.pop(f"default:{urgency}", [])
            if (user_id, urgency) not in has_rules:
                plan[urgency] = default
    return plans


def on_call_board(schedules: Iterable[Schedule], at: datetime) -> list[dict]:
    """Now and next for every schedule as the API and the dashboard's on-call panel give it (one
    shape, one place): five queries however many schedules, then one resolver pass each."""
    answers = on_call_now_and_next(schedules, at)
    names = user_names(
        user_id for answer in answers for user_id in (answer.now.user_id, answer.next and answer.next.user_id)
    )

    def person(user_id: int | None) -> dict | None:
        return None if user_id is None else {"id": user_id, "username": names.get(user_id, "")}

    return [
        {
            "id": answer.schedule.pk,
            "name": answer.schedule.name,
            "time_zone": answer.schedule.time_zone,
            "now": {"user": person(answer.now.user_id), "until": answer.now.ends_at},
            "next": answer.next
            and {
                "user": person(answer.next.user_id),
                "starts_at": answer.next.starts_at,
                "ends_at": answer.next.ends_at,
            },
            "next_gap": answer.next_gap
            and {"starts_at": answer.next_gap.starts_at, "ends_at": answer.next_gap.ends_at},
        }
        for answer in answers
    ]
