import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert, AlertEvent, AlertRule
from notifications.models import Message
from tests.alerts.factories import AlertRuleFactory, ChannelFactory, SilenceFactory

pytestmark = pytest.mark.django_db


def rule_state(rule):
    rule.refresh_from_db()
    return rule.state


def test_it_goes_pending_then_fires_after_the_duration(scenario):
    rule = AlertRuleFactory(duration_minutes=2)
    scenario.at(0, 95)
    assert rule_state(rule) == "pending" and not Alert.objects.exists()
    scenario.at(1, 96)
    assert rule_state(rule) == "pending"
    scenario.at(2, 97)
    assert rule_state(rule) == "firing"
    assert (
        Alert.objects.get().last_value == 96.5
    )  # avg over [now - 1 min, now]: the points of minutes 1 and 2


def test_it_returns_to_ok_when_the_condition_clears_while_pending(scenario):
    rule = AlertRuleFactory(duration_minutes=5)
    scenario.at(0, 95)
    scenario.at(2, 10)
    assert rule_state(rule) == "ok"
    assert rule.pending_since is None


def test_it_keeps_the_pending_timer_across_a_restart(scenario):
    rule = AlertRuleFactory(duration_minutes=2)
    scenario.at(0, 95)
    AlertRule.objects.filter(pk=rule.pk).update(last_evaluated_at=None)  # a fresh process knows only the row
    scenario.at(2, 95)
    assert rule_state(rule) == "firing"


def test_it_keeps_firing_for_the_configured_minutes(scenario):
    rule = AlertRuleFactory(keep_firing_for_minutes=3)
    scenario.at(0, 95)
    scenario.at(1, 10)
    assert rule_state(rule) == "firing"
    scenario.at(3, 10)
    assert rule_state(rule) == "firing"
    scenario.at(4, 10)
    assert rule_state(rule) == "ok"
    assert Alert.objects.get().status == "resolved"


def test_it_auto_resolves_and_sends_a_resolved_notification(scenario):
    ChannelFactory()
    AlertRuleFactory()
    scenario.at(0, 95)
    scenario.at(2, 10)
    alert = Alert.objects.get()
    assert alert.status == "resolved" and alert.resolved_by is None
    assert list(Message.objects.order_by("pk").values_list("kind", flat=True)) == [
        "alert.firing",
        "alert.resolved",
    ]
    assert alert.events.filter(kind=AlertEvent.Kind.RESOLVED, actor_type="rule").exists()


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("ok", "ok"), ("alerting", "firing"), ("keep_last", "firing")],
)
def test_it_applies_the_no_data_policy(scenario, policy, expected):
    rule = AlertRuleFactory(no_data=policy)
    scenario.at(0, 95)
    assert rule_state(rule) == "firing"
    scenario.at(5)  # no point in the last minute
    assert rule_state(rule) == expected


def test_it_fires_on_no_data_when_told_to(scenario):
    rule = AlertRuleFactory(no_data="alerting")
    scenario.at(0)
    assert rule_state(rule) == "firing"
    assert "no data" in Alert.objects.get().message


def test_it_detects_flapping_and_says_so_once(scenario, settings):
    settings.ALERT_FLAP_THRESHOLD = 4
    ChannelFactory()
    rule = AlertRuleFactory()
    for minute, value in enumerate([95, 10, 95, 10, 95, 10, 95]):
        scenario.at(minute * 2, value)
    rule.refresh_from_db()
    assert rule.flapping
    assert Message.objects.filter(kind="alert.flapping").count() == 1
    # Only the first firing went out: from the second on (5 state changes) the rule flaps.
    assert Message.objects.filter(kind="alert.firing").count() == 1
    assert Alert.objects.filter(suppressed_reason="rule is flapping").exists()


def test_it_groups_a_storm_into_one_notification_per_channel(scenario):
    channel = ChannelFactory()
    for _ in range(12):
        AlertRuleFactory().channels.add(channel)
    scenario.at(0, 99)
    assert Alert.objects.count() == 12
    message = Message.objects.get(kind="alert.firing")
    assert message.subject.startswith("[FIRING:12]")
    assert message.deliveries.count() == 1


def test_it_records_but_does_not_send_silenced_alerts(scenario):
    ChannelFactory()
    SilenceFactory(matchers=[{"label": "rule", "op": "=~", "value": "disk.*"}])
    AlertRuleFactory(name="disk full")
    AlertRuleFactory(name="cpu hot")
    scenario.at(0, 99)
    silenced = Alert.objects.get(title="disk full")
    assert silenced.suppressed_reason.startswith("silenced")
    assert silenced.events.filter(kind="silenced").exists()
    message = Message.objects.get(kind="alert.firing")
    assert [a["title"] for a in message.context["alerts"]] == ["cpu hot"]


def test_it_does_not_raise_a_second_alert_while_one_is_open(scenario):
    AlertRuleFactory()
    for minute in range(4):
        scenario.at(minute, 99)
    assert Alert.objects.count() == 1


def test_it_records_a_failing_rule_and_goes_on(scenario, monkeypatch):
    import alerts.sources

    real = alerts.sources.window_aggregates

    def broken_for_disk(selectors, now):
        selectors = list(selectors)
        if any(selector.name == "disk.percent" for selector in selectors):
            raise RuntimeError("query exploded")
        return real(selectors, now=now)

    monkeypatch.setattr(alerts.sources, "window_aggregates", broken_for_disk)
    broken = AlertRuleFactory(metric_name="disk.percent")
    healthy = AlertRuleFactory()
    summary = scenario.at(0, 99)
    broken.refresh_from_db()
    assert summary.errors == 1
    assert "query exploded" in broken.last_error
    assert Alert.objects.filter(alert_type="meta", fingerprint=f"meta:rule:{broken.pk}").exists()
    assert rule_state(healthy) == "firing"


def test_it_reads_each_metric_once_whatever_the_number_of_rules(scenario):
    def tick_queries(rules: int) -> int:
        AlertRule.objects.all().delete()
        for i in range(rules):
            AlertRuleFactory(threshold=1000 + i)
        scenario.at(0, 50)  # first tick settles state; the next is the steady state measured
        with CaptureQueriesContext(connection) as queries:
            scenario.at(1, 50)
        return len(queries)

    assert tick_queries(5) == tick_queries(60)


def test_it_writes_rules_going_pending_in_one_batch_whatever_their_number(scenario):
    def first_tick_queries(rules: int) -> int:
        AlertRule.objects.all().delete()
        for i in range(rules):
            AlertRuleFactory(threshold=10 + i, duration_minutes=5)
        with CaptureQueriesContext(connection) as queries:
            scenario.at(0, 99)
        assert set(AlertRule.objects.values_list("state", flat=True)) == {"pending"}
        assert AlertRule.objects.filter(pending_since=scenario.now, last_value=99).count() == rules
        return len(queries)

    assert first_tick_queries(3) == first_tick_queries(40)
    scenario.at(3, 5)  # and back to ok in a batch too (the 99 is out of the window)
    assert set(AlertRule.objects.values_list("state", flat=True)) == {"ok"}
    assert not AlertRule.objects.filter(pending_since__isnull=False).exists()


def test_a_state_another_evaluator_moved_first_is_not_overwritten(scenario, monkeypatch):
    """The batched write is a compare-and-set on the state this tick read."""
    import alerts.evaluation

    rule = AlertRuleFactory(threshold=10, duration_minutes=5)
    read_values = alerts.evaluation.rule_values

    def values_then_a_rival_fires_the_rule(rules, now):
        values = read_values(rules, now)
        AlertRule.objects.filter(pk=rule.pk).update(state="firing", firing_since=now)
        return values

    monkeypatch.setattr(alerts.evaluation, "rule_values", values_then_a_rival_fires_the_rule)
    scenario.at(0, 99)
    rule.refresh_from_db()
    assert rule.state == "firing" and rule.pending_since is None


def test_it_tells_a_lost_database_from_a_failing_rule():
    import psycopg
    from django.db import OperationalError, ProgrammingError

    from alerts.evaluation import database_unavailable

    def django_error(kind, cause):
        error = kind(str(cause))
        error.__cause__ = cause
        return error

    assert database_unavailable(django_error(OperationalError, psycopg.errors.AdminShutdown()))
    assert database_unavailable(django_error(OperationalError, psycopg.OperationalError("server closed")))
    assert not database_unavailable(django_error(OperationalError, psycopg.errors.QueryCanceled()))
    assert not database_unavailable(django_error(ProgrammingError, psycopg.errors.UndefinedColumn()))
    assert not database_unavailable(RuntimeError("query exploded"))
