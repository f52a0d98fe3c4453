"""Alert rules name channels by id, or by kind as the specification's examples do
("channels": ["email", "dashboard"]): a kind means every enabled channel of that kind."""

import pytest

from alerts.models import AlertRule
from notifications.models import Channel
from tests.alerts.factories import ChannelFactory
from tests.alerts.test_api import RULE

pytestmark = pytest.mark.django_db
URL = "/api/operations/alert-rules"


@pytest.fixture
def channels():
    return {
        "mail": ChannelFactory(name="mail", kind=Channel.Kind.EMAIL),
        "mail-off": ChannelFactory(name="mail-off", kind=Channel.Kind.EMAIL, enabled=False),
        "board": ChannelFactory(name="board", kind=Channel.Kind.DASHBOARD),
        "hook": ChannelFactory(name="hook", kind=Channel.Kind.WEBHOOK, url="https://hooks.example.com/x"),
    }


def _rule() -> AlertRule:
    return AlertRule.objects.get(name=RULE["name"])


def _names(channels) -> set[str]:
    return {channel.name for channel in channels.all()}


def test_it_takes_kinds_as_every_enabled_channel_of_the_kind(api, channels):
    response = api.post(URL, {**RULE, "channels": ["email", "dashboard"]}, format="json")
    assert response.status_code == 201, response.json()
    assert _names(_rule().channels) == {"mail", "board"}
    assert sorted(response.json()["channels"]) == sorted([channels["mail"].pk, channels["board"].pk])


def test_it_takes_kinds_in_escalation_steps(api, channels):
    step = {"level": 1, "escalate_after_minutes": 15, "channels": ["webhook"]}
    response = api.post(URL, {**RULE, "escalation_steps": [step]}, format="json")
    assert response.status_code == 201, response.json()
    assert _names(_rule().escalation_policy.steps.get().channels) == {"hook"}


def test_it_takes_ids_and_kinds_together_once_each(api, channels):
    body = {**RULE, "channels": [channels["mail"].pk, "email", channels["mail-off"].pk]}
    response = api.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert _names(_rule().channels) == {"mail", "mail-off"}


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            ["pager"],
            "'pager' is neither a channel id nor a channel kind "
            "(email, slack, webhook, dashboard, ntfy, discord, teams, telegram, mattermost, gotify, "
            "sms, voice, sms_gateway, pagerduty, opsgenie, slack_bot).",
        ),
        (["slack"], "No channel of kind 'slack' is enabled."),
        ("email", 'Expected a list of items but got type "str".'),
    ],
)
def test_it_refuses_a_bad_kind_with_a_field_error(api, channels, names, message):
    response = api.post(URL, {**RULE, "channels": names}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"channels": [message]}
    assert not AlertRule.objects.filter(name=RULE["name"]).exists()


def test_it_takes_the_voice_kind_in_an_escalation_step(api, channels):
    voice = ChannelFactory(name="phone", kind=Channel.Kind.VOICE)
    step = {"level": 1, "escalate_after_minutes": 5, "channels": ["voice"]}
    response = api.post(URL, {**RULE, "channels": [voice.pk], "escalation_steps": [step]}, format="json")
    assert response.status_code == 201, response.json()
    assert _names(_rule().channels) == _names(_rule().escalation_policy.steps.get().channels) == {"phone"}


def test_it_names_the_step_of_a_bad_kind(api, channels):
    step = {"level": 1, "escalate_after_minutes": 15, "channels": ["pager"]}
    response = api.post(URL, {**RULE, "escalation_steps": [step]}, format="json")
    assert response.status_code == 400
    assert "pager" in str(response.json()["errors"]["escalation_steps"])


def test_it_documents_ids_or_kinds_for_writes_and_ids_for_reads():
    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    written = schemas["AlertRuleRequest"]["properties"]["channels"]["items"]["oneOf"]
    assert written[0] == {"type": "integer"} and "dashboard" in written[1]["enum"]
    assert schemas["AlertRule"]["properties"]["channels"]["items"] == {"type": "integer"}
    assert "oneOf" in schemas["EscalationStepRequest"]["properties"]["channels"]["items"]


def test_it_takes_the_specifications_escalation_shape(api, channels):
    body = {
        **RULE,
        "channels": ["email", "dashboard"],
        "escalation": {"escalateAfterMinutes": 30, "escalateToChannels": ["webhook"]},
    }
    response = api.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    step = _rule().escalation_policy.steps.get()
    assert (step.level, step.escalate_after_minutes, _names(step.channels)) == (1, 30, {"hook"})
    assert response.json()["escalation_steps"][0]["channels"] == [channels["hook"].pk]
    assert "escalation" not in response.json()


def test_a_disabled_specification_escalation_clears_the_steps(api, channels):
    api.post(URL, {**RULE, "escalation": {"escalateToChannels": ["webhook"]}}, format="json")
    rule = _rule()
    off = api.patch(
        f"{URL}/{rule.pk}", {"escalation": {"enabled": False, "escalateToChannels": []}}, format="json"
    )
    assert off.status_code == 200, off.json()
    rule.refresh_from_db()
    assert rule.escalation_policy is None


def test_it_refuses_both_escalation_shapes_or_an_unknown_kind(api, channels):
    both = {
        **RULE,
        "escalation": {"escalateToChannels": ["webhook"]},
        "escalation_steps": [{"level": 1, "escalate_after_minutes": 5, "channels": ["email"]}],
    }
    response = api.post(URL, both, format="json")
    assert response.status_code == 400 and "escalation" in response.json()["errors"]
    unknown = {**RULE, "escalation": {"escalateToChannels": ["pager"]}}
    response = api.post(URL, unknown, format="json")
    assert response.status_code == 400 and "escalation" in str(response.json()["errors"])
    assert not AlertRule.objects.filter(name=RULE["name"]).exists()


def test_it_takes_the_incident_tools_in_rules_and_escalation_steps(api, channels):
    pager = ChannelFactory(
        name="pager", kind=Channel.Kind.PAGERDUTY, token="R0UTINGKEY0123456789abcdefABCDEF"
    )
    genie = ChannelFactory(
        name="genie", kind=Channel.Kind.OPSGENIE, token="1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718"
    )
    step = {"level": 1, "escalate_after_minutes": 10, "channels": ["opsgenie"]}
    response = api.post(URL, {**RULE, "channels": ["pagerduty"], "escalation_steps": [step]}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["channels"] == [pager.pk]
    assert list(_rule().escalation_policy.steps.get().channels.all()) == [genie]
