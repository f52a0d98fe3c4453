"""A small on-call world for the paging tests: people with verified methods and rules, a
primary rotation in Europe/Berlin, a secondary schedule, and a two-level policy."""

from datetime import UTC, date, datetime, time

from django.utils import timezone

from oncall.models import ContactMethod, EscalationPolicy, NotificationRule
from oncall.policies import StepSpec, policy_save
from tests.alerts.factories import AlertRuleFactory
from tests.oncall.factories import daily_layer, person, schedule

# Sunday 29 November 2026, 03:00 in Berlin (CET, UTC+1).
SUNDAY_3AM_BERLIN = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def method(user, kind, address, *, verified=True) -> ContactMethod:
    return ContactMethod.objects.create(
        user=user, kind=kind, address=address, verified_at=timezone.now() if verified else None
    )


def rule_step(user, contact_method, delay, urgency="high") -> NotificationRule:
    return NotificationRule.objects.create(
        user=user, urgency=urgency, contact_method=contact_method, delay_minutes=delay
    )


def on_call_world(name="db down", severity="critical"):
    alice, bob, carol = person("alice"), person("bob"), person("carol")
    email = method(alice, "email", "alice@example.com")
    push = method(alice, "push", "alice-pager")
    rule_step(alice, email, 0)
    rule_step(alice, push, 2)
    method(bob, "email", "bob@example.com")
    method(carol, "email", "carol@example.com")
    # Alice has nights and weekends; Bob has office hours on weekdays (the higher layer).
    primary = schedule(
        "Primary",
        layers=[
            daily_layer(alice, level=1, starts_on=date(2026, 11, 1)),
            daily_layer(
                bob,
                level=2,
                starts_on=date(2026, 11, 1),
                restrict_weekdays=[0, 1, 2, 3, 4],
                restrict_from=time(9),
                restrict_to=time(17),
            ),
        ],
    )
    secondary = schedule("Secondary", layers=[daily_layer(carol, starts_on=date(2026, 11, 1))])
    policy = policy_save(
        policy=EscalationPolicy(name=f"{name} policy"),
        steps=[
            StepSpec(level=1, escalate_after_minutes=1, schedules=[primary]),
            StepSpec(level=2, escalate_after_minutes=10, schedules=[secondary]),
        ],
    )
    rule = AlertRuleFactory(name=name, severity=severity, escalation_policy=policy)
    return {"alice": alice, "bob": bob, "carol": carol, "rule": rule, "policy": policy, "primary": primary}
