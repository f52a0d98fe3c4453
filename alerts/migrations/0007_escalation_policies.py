"""Each rule's escalation steps become one escalation policy of the same name, with the same
levels, delays, repeats and channels (and no repeat of the whole policy), so nothing pages
differently. The old steps' table goes in the next migration: PostgreSQL refuses to drop a table
in the transaction that has just written rows pointing at its neighbours."""

import django.db.models.deletion
from django.db import migrations, models


def steps_to_policies(apps, schema_editor):
    AlertRule = apps.get_model("alerts", "AlertRule")
    EscalationStep = apps.get_model("alerts", "EscalationStep")
    EscalationPolicy = apps.get_model("oncall", "EscalationPolicy")
    PolicyStep = apps.get_model("oncall", "PolicyStep")
    taken = set(EscalationPolicy.objects.values_list("name", flat=True))
    for rule in AlertRule.objects.filter(pk__in=EscalationStep.objects.values("rule")).order_by("pk"):
        name, number = rule.name[:190], 1
        while name in taken:
            number += 1
            name = f"{rule.name[:190]} ({number})"
        taken.add(name)
        policy = EscalationPolicy.objects.create(
            name=name, description=f"The escalation steps of the rule {rule.name}.", repeat=0
        )
        for step in EscalationStep.objects.filter(rule=rule).order_by("level"):
            row = PolicyStep.objects.create(
                policy=policy,
                level=step.level,
                escalate_after_minutes=step.escalate_after_minutes,
                repeat=step.repeat,
            )
            row.channels.set(step.channels.all())
        rule.escalation_policy = policy
        rule.save(update_fields=["escalation_policy"])


def policies_to_steps(apps, schema_editor):
    AlertRule = apps.get_model("alerts", "AlertRule")
    EscalationStep = apps.get_model("alerts", "EscalationStep")
    PolicyStep = apps.get_model("oncall", "PolicyStep")
    for rule in AlertRule.objects.exclude(escalation_policy=None):
        for step in PolicyStep.objects.filter(policy=rule.escalation_policy_id).order_by("level"):
            row = EscalationStep.objects.create(
                rule=rule, level=step.level, escalate_after_minutes=step.escalate_after_minutes, repeat=step.repeat
            )
            row.channels.set(step.channels.all())


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0006_alertevent_actor_name'),
        ('oncall', '0002_people_and_policies'),
    ]

    operations = [
        migrations.AddField(
            model_name='alert',
            name='escalation_cycle',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='alertrule',
            name='escalation_policy',
            field=models.ForeignKey(blank=True, help_text="Who is paged, and when, while the rule's alerts stay unacknowledged.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='rules', to='oncall.escalationpolicy'),
        ),
        migrations.AlterField(
            model_name='alertevent',
            name='kind',
            field=models.CharField(choices=[('fired', 'Fired'), ('repeated', 'Repeated'), ('notified', 'Notified'), ('acknowledged', 'Acknowledged'), ('escalated', 'Escalated'), ('paged', 'Paged a person'), ('silenced', 'Silenced'), ('suppressed', 'Suppressed'), ('flapping', 'Flapping'), ('resolved', 'Resolved'), ('reopened', 'Reopened')], max_length=12),
        ),
        migrations.RunPython(steps_to_policies, policies_to_steps),
    ]
