"""The default "Visitors report trouble" rule: per component, only while the page shows it fine."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from alerts.defaults import VISITOR_RULE_NAME, default_rules, default_rules_create
from alerts.evaluation import evaluate_rules
from alerts.models import Alert, AlertRule
from monitoring import counters
from monitoring.counters import flush_counters
from monitoring.models import Metric
from statuspage import services as status_services
from statuspage.visitor_reports import METRIC_NAME, OTHER
from tests.alerts.test_concurrency import race
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


def reports(label, count: int, *, at=None) -> Metric:
    """One flushed counter row: `count` reports about `label` (a component or OTHER)."""
    label = label if isinstance(label, str) else str(label.pk)
    return Metric.objects.create(
        name=METRIC_NAME,
        metric_type="application",
        category="visitor_reports",
        value=count,
        tags={"component": label, "problem": "unspecified"},
        timestamp=at or timezone.now(),
    )


def visitor_alerts():
    return Alert.objects.filter(rule__name=VISITOR_RULE_NAME)


def test_it_ships_the_rule_with_the_threshold_from_the_setting():
    rule = AlertRule.objects.get(name=VISITOR_RULE_NAME)
    assert (rule.aggregation, rule.operator, rule.threshold, rule.window_minutes) == ("sum", ">=", 5, 5)


def test_it_takes_the_default_threshold_from_visitor_report_alert_threshold(settings):
    settings.VISITOR_REPORT_ALERT_THRESHOLD = 12
    rule = next(values for values in default_rules() if values["name"] == VISITOR_RULE_NAME)
    assert rule["threshold"] == 12


def test_it_alerts_when_reports_reach_the_threshold_for_an_operational_component():
    component = ComponentFactory(name="Checkout")
    reports(component, 3)
    reports(component, 2)  # another process's row for the same interval
    evaluate_rules()
    alert = visitor_alerts().get()
    assert (alert.component, alert.value, alert.title) == (component, 5, "Visitors report trouble: Checkout")


def test_it_stays_quiet_below_the_threshold():
    reports(ComponentFactory(), 4)
    evaluate_rules()
    assert not visitor_alerts().exists()


def test_it_stays_quiet_while_the_component_is_not_operational():
    component = ComponentFactory(status="partial_outage")
    reports(component, 9)
    evaluate_rules()
    assert not visitor_alerts().exists()


def test_it_ignores_reports_older_than_the_window():
    component = ComponentFactory()
    reports(component, 9, at=timezone.now() - timedelta(minutes=6))
    evaluate_rules()
    assert not visitor_alerts().exists()


def test_it_alerts_once_per_component():
    first, second = ComponentFactory(), ComponentFactory()
    reports(first, 5)
    reports(second, 6)
    evaluate_rules()
    evaluate_rules()
    assert sorted(visitor_alerts().values_list("component", "occurrence_count")) == sorted(
        [(first.pk, 1), (second.pk, 1)]
    )


def test_it_resolves_when_the_reports_leave_the_window():
    component = ComponentFactory()
    now = timezone.now()
    reports(component, 5, at=now)
    evaluate_rules(now=now)
    evaluate_rules(now=now + timedelta(minutes=6))
    assert visitor_alerts().get().status == Alert.Status.RESOLVED


def test_it_resolves_when_the_probes_see_the_outage():
    component = ComponentFactory()
    reports(component, 5)
    evaluate_rules()
    status_services.component_set_status(component=component, status="major_outage", source="probe")
    evaluate_rules()
    assert visitor_alerts().get().status == Alert.Status.RESOLVED


def test_it_shows_the_rule_firing_while_a_component_alert_is_open():
    reports(ComponentFactory(), 7)
    evaluate_rules()
    rule = AlertRule.objects.get(name=VISITOR_RULE_NAME)
    assert (rule.state, rule.last_value) == ("firing", 7)


def test_it_alerts_on_something_else_while_every_component_is_operational():
    ComponentFactory()
    reports(OTHER, 5)
    evaluate_rules()
    assert visitor_alerts().get().component is None


def test_it_stays_quiet_on_something_else_while_a_component_is_down():
    ComponentFactory(status="major_outage")
    reports(OTHER, 5)
    evaluate_rules()
    assert not visitor_alerts().exists()


def test_it_alerts_from_reports_posted_on_the_public_form():
    component = ComponentFactory()
    counters.aggregator.take()
    for i in range(5):
        Client(enforce_csrf_checks=True, REMOTE_ADDR=f"10.3.0.{i}").post(
            "/report-trouble",
            urlencode({"component": component.pk}),
            content_type="application/x-www-form-urlencoded",
        )
    flush_counters()
    evaluate_rules()
    assert visitor_alerts().get().component == component


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and SKIP LOCKED need PostgreSQL")
def test_it_raises_one_alert_per_component_when_two_evaluators_race():
    default_rules_create(names=[VISITOR_RULE_NAME])  # a transactional test's flush removed the migration's
    components = [ComponentFactory() for _ in range(5)]
    for component in components:
        reports(component, 5)
    race(evaluate_rules, count=3)
    assert sorted(visitor_alerts().values_list("component", "occurrence_count")) == [
        (c.pk, 1) for c in sorted(components, key=lambda c: c.pk)
    ]
