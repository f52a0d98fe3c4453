"""Configuration as code: export_config, apply_config and their rules (config/configcode)."""

import io

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from alerts.models import AlertRule, Silence
from config.models import AuditEntry, ConfigApply
from healthchecks.models import Probe
from notifications.models import Channel
from oncall.models import EscalationPolicy
from statuspage.models import Component, ComponentGroup, IncidentTemplate
from tests.config.factories import configured_world, role_user

pytestmark = pytest.mark.django_db

SECRETS = {
    "VIGIL_CHANNELS_DEPLOYS_URL": "https://receiver.example/hook",
    "VIGIL_CHANNELS_DEPLOYS_SECRET": "sign-me",
    "VIGIL_PROBES_API_HTTP_BASIC_AUTH_PASSWORD": "pw-probe",
}


def export() -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_config", stdout=out, stderr=err)
    return out.getvalue()


def apply(tmp_path, text: str, *args: str) -> str:
    path = tmp_path / "vigil.yaml"
    path.write_text(text)
    out = io.StringIO()
    call_command("apply_config", str(path), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def apply_fails(tmp_path, text: str) -> str:
    path = tmp_path / "vigil.yaml"
    path.write_text(text)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("apply_config", str(path), stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def wipe() -> None:
    for model in (
        Silence,
        IncidentTemplate,
        Probe,
        AlertRule,
        EscalationPolicy,
        Channel,
        Component,
        ComponentGroup,
    ):
        model.objects.all().delete()


def counts() -> list[int]:
    return [
        m.objects.count() for m in (ComponentGroup, Component, Channel, EscalationPolicy, AlertRule, Probe)
    ]


def test_it_round_trips_export_apply_export(tmp_path, monkeypatch):
    configured_world()
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    first = export()
    wipe()
    apply(tmp_path, first)
    assert export() == first


def test_it_carries_the_world_over_whole(tmp_path, monkeypatch):
    configured_world()
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    text = export()
    wipe()
    apply(tmp_path, text)
    rule = AlertRule.objects.get(name="CPU high")
    assert (rule.component.name, rule.escalation_policy.name, rule.threshold) == ("API", "Primary", 90.5)
    assert list(Component.objects.get(name="API").depends_on.values_list("name", flat=True)) == ["Database"]
    assert Channel.objects.get(name="Deploys").secret == "sign-me"


def test_it_never_writes_a_secret_in_clear():
    configured_world()
    text = export()
    for value in SECRETS.values():
        assert value not in text
    assert "env: VIGIL_CHANNELS_DEPLOYS_SECRET" in text


def test_it_warns_of_secrets_that_no_reference_gave():
    configured_world()
    err = io.StringIO()
    call_command("export_config", stdout=io.StringIO(), stderr=err)
    assert "VIGIL_CHANNELS_DEPLOYS_URL" in err.getvalue()


def test_it_exports_the_variable_a_document_named(tmp_path, monkeypatch):
    monkeypatch.setenv("HOOK_URL", "https://receiver.example/other")
    apply(tmp_path, "version: 1\nchannels:\n  Hook:\n    kind: slack\n    url: {env: HOOK_URL}\n")
    assert "url:\n      env: HOOK_URL" in export()


def test_it_is_idempotent(tmp_path, monkeypatch):
    configured_world()
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    text = export()
    apply(tmp_path, text)  # the first apply records where the secrets come from
    assert apply(tmp_path, text).startswith("No changes")


def test_it_writes_nothing_on_a_dry_run(tmp_path):
    out = apply(tmp_path, "version: 1\ncomponent_groups:\n  Edge: {}\n", "--dry-run")
    assert "+ component_groups[Edge]" in out
    assert not ComponentGroup.objects.exists()


def test_it_shows_updates_with_their_fields(tmp_path):
    ComponentGroup.objects.create(name="Edge")
    out = apply(tmp_path, "version: 1\ncomponent_groups:\n  Edge: {position: 3, collapsed: true}\n")
    assert "~ component_groups[Edge]: position, collapsed" in out


def test_it_deletes_only_with_prune(tmp_path):
    ComponentGroup.objects.create(name="Old")
    apply(tmp_path, "version: 1\n")
    assert ComponentGroup.objects.filter(name="Old").exists()
    out = apply(tmp_path, "version: 1\n", "--prune")
    assert "- component_groups[Old]" in out
    assert not ComponentGroup.objects.filter(name="Old").exists()


def test_it_ends_a_pruned_silence_rather_than_deleting_it(tmp_path):
    world = configured_world()
    apply(tmp_path, "version: 1\n", "--prune")
    world["silence"].refresh_from_db()
    assert world["silence"].ends_at <= timezone.now()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\ncomponents:\n  API:\n    group: x\n   bad: y\n", "line 5: not valid YAML"),
        (
            "version: 1\ncomponents:\n  API:\n    colour: red\n",
            "line 4: components[API].colour: unknown field",
        ),
        (
            "version: 1\ncomponents:\n  API:\n    position: high\n",
            "line 4: components[API].position: expected a whole number",
        ),
        ("version: 1\ncomponents:\n  API: {}\n  API: {}\n", "line 4: duplicate key 'API' (first on line 3)"),
        (
            "version: 1\nprobes:\n  - component: api\n    kind: tcp\n    host: db\n    port: 1\n",
            "line 3: probes[api/tcp/db:1].component: no component 'api'",
        ),
        (
            "version: 1\ncomponents:\n  API:\n    type: spaceship\n",
            "line 4: components[API].type: Value 'spaceship' is not a valid choice.",
        ),
        (
            "version: 1\nchannels:\n  Hook:\n    kind: slack\n    url: {env: NOT_SET_ANYWHERE}\n",
            "line 5: channels[Hook].url: environment variable NOT_SET_ANYWHERE is not set",
        ),
        (
            "version: 1\nchannels:\n  Hook:\n    kind: slack\n    url: https://hooks.example/x\n",
            "line 5: channels[Hook].url: a secret is written as {env: VARIABLE_NAME}",
        ),
        ("version: 2\n", "line 1: version: unsupported version 2"),
        ("version: 1\nwidgets: {}\n", "line 2: widgets: unknown section"),
        (
            "version: 1\nalert_rules:\n  CPU:\n    metric_name: cpu\n",
            "line 3: alert_rules[CPU]: missing field 'threshold'",
        ),
        ("version: 1\ncomponent_groups:\n  A: &x {}\n  B: *x\n", "anchors and aliases"),
    ],
)
def test_it_reports_each_problem_with_its_line(tmp_path, text, expected):
    assert expected in apply_fails(tmp_path, text)


def test_it_writes_nothing_when_the_last_object_is_bad(tmp_path):
    before = counts()
    text = "version: 1\ncomponent_groups:\n  Edge: {}\ncomponents:\n  API: {}\n  Web: {group: Nowhere}\n"
    err = apply_fails(tmp_path, text)
    assert "line 6: components[Web].group: no component group 'Nowhere'" in err
    assert counts() == before


def test_it_rolls_back_everything_a_service_refuses(tmp_path):
    # Two steps on one level: policy_save refuses it, after the channel before it was written.
    text = (
        "version: 1\nchannels:\n  Mail: {kind: email, recipients: ops@example.com}\n"
        "escalation_policies:\n  P:\n    steps:\n"
        "      - {level: 1, channels: [Mail]}\n      - {level: 1, channels: [Mail]}\n"
    )
    err = apply_fails(tmp_path, text)
    assert "escalation_policies[P].steps" in err
    assert not Channel.objects.exists()


def test_it_records_an_apply_that_changed_something(tmp_path):
    apply(tmp_path, "version: 1\ncomponent_groups:\n  Edge: {}\n")
    apply(tmp_path, "version: 1\ncomponent_groups:\n  Edge: {}\n")
    assert ConfigApply.objects.count() == 1
    assert AuditEntry.objects.filter(object_repr__startswith="config applied").count() == 1


def test_it_exports_every_section():
    configured_world()
    document = yaml.safe_load(export())
    assert list(document) == [
        "version",
        "component_groups",
        "components",
        "channels",
        "escalation_policies",
        "alert_rules",
        "probes",
        "templates",
        "silences",
    ]


def test_it_refuses_a_reference_to_what_prune_would_delete(tmp_path):
    ComponentGroup.objects.create(name="Old")
    path = tmp_path / "vigil.yaml"
    path.write_text("version: 1\ncomponents:\n  API: {group: Old}\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("apply_config", str(path), "--prune", stdout=io.StringIO(), stderr=err)
    assert "line 3: components[API].group: no component group 'Old' (it is pruned" in err.getvalue()


def test_it_names_people_in_policy_steps_by_user_name(tmp_path):
    role_user("operator")
    text = "version: 1\nescalation_policies:\n  P:\n    steps:\n      - {level: 1, users: [operator]}\n"
    apply(tmp_path, text)
    step = EscalationPolicy.objects.get(name="P").steps.get()
    assert list(step.users.values_list("username", flat=True)) == ["operator"]


def test_it_refuses_an_unknown_user(tmp_path):
    text = "version: 1\nescalation_policies:\n  P:\n    steps:\n      - {level: 1, users: [nobody]}\n"
    assert "line 5: escalation_policies[P].steps[1].users: no active user 'nobody'" in apply_fails(
        tmp_path, text
    )


def test_it_shows_a_changed_secret_by_its_field_only(tmp_path, monkeypatch):
    monkeypatch.setenv("HOOK_URL", "https://hooks.example/one")
    text = "version: 1\nchannels:\n  Hook:\n    kind: slack\n    url: {env: HOOK_URL}\n"
    apply(tmp_path, text)
    monkeypatch.setenv("HOOK_URL", "https://hooks.example/two")
    out = apply(tmp_path, text)
    assert "~ channels[Hook]: url" in out and "hooks.example" not in out
    assert Channel.objects.get(name="Hook").url == "https://hooks.example/two"


def test_it_reports_every_problem_at_once(tmp_path):
    text = "version: 1\ncomponents:\n  API: {colour: red}\n  Web: {position: -1}\n  Db: {group: Nowhere}\n"
    err = apply_fails(tmp_path, text)
    assert [line.split(":")[0] for line in err.splitlines()] == ["line 3", "line 4", "line 5"]


def test_it_reports_progress_on_large_documents(tmp_path):
    groups = "".join(f"  G{n}: {{}}\n" for n in range(250))
    path = tmp_path / "vigil.yaml"
    path.write_text("version: 1\ncomponent_groups:\n" + groups)
    err = io.StringIO()
    call_command("apply_config", str(path), stdout=io.StringIO(), stderr=err)
    assert "... 200 of 250 changes written" in err.getvalue()
    assert ComponentGroup.objects.count() == 250


def test_it_refuses_a_dependency_loop(tmp_path):
    text = "version: 1\ncomponents:\n  A: {depends_on: [B]}\n  B: {depends_on: [A]}\n"
    assert "line 3: components[A].depends_on: a component cannot depend on itself" in apply_fails(
        tmp_path, text
    )


def test_it_neither_recreates_nor_refuses_an_ended_silence(tmp_path):
    text = (
        "version: 1\nsilences:\n  - matchers: [{label: severity, op: '=', value: high}]\n"
        "    starts_at: '2020-01-01T00:00:00Z'\n    ends_at: '2020-01-02T00:00:00Z'\n"
    )
    assert apply(tmp_path, text).startswith("No changes")
    assert not Silence.objects.exists()


def test_it_holds_rules_to_the_api_bounds(tmp_path):
    text = "version: 1\nalert_rules:\n  CPU:\n    metric_name: cpu\n    threshold: 1\n    window_minutes: 0\n"
    assert "line 6: alert_rules[CPU].window_minutes: Between 1 and 1440 minutes." in apply_fails(
        tmp_path, text
    )


def test_it_prunes_every_kind_of_object_through_its_services(tmp_path):
    configured_world()
    out = apply(tmp_path, "version: 1\n", "--prune")
    assert "- probes[Database/tcp/db.example.com:5432]" in out and "- channels[Deploys]" in out
    assert counts() == [0, 0, 0, 0, 0, 0]
    assert not IncidentTemplate.objects.exists()


def test_it_changes_a_probe_in_place(tmp_path, monkeypatch):
    world = configured_world()
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    text = export().replace("  port: 5432\n", "  port: 5432\n  interval_seconds: 120\n")
    out = apply(tmp_path, text)
    assert "~ probes[Database/tcp/db.example.com:5432]: interval_seconds" in out
    world["tcp_probe"].refresh_from_db()
    assert world["tcp_probe"].interval_seconds == 120
