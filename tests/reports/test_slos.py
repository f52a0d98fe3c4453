"""SLOs: windows (rolling and calendar month, across month ends), error budget, burn rates, and
the burn-rate alert that fires once and clears."""

from decimal import Decimal

import pytest

from alerts.models import Alert, AlertEvent
from alerts.notify import alerts_pending_announce
from notifications.models import Message
from reports.models import ServiceLevelObjective
from reports.slo import slo_status, slos_evaluate
from statuspage.uptime import uptime_rollup
from tests.alerts.factories import ChannelFactory
from tests.reports.conftest import at, set_status
from tests.reports.factories import ObjectiveFactory
from tests.statuspage.factories import ComponentFactory, ComponentGroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def component():
    return ComponentFactory(name="API", created_at=at("2026-01-01 00:00"), status="operational")


def test_it_spends_the_budget_of_a_calendar_month_and_starts_afresh_on_the_first(clock, component):
    slo = ObjectiveFactory(component=component, window=ServiceLevelObjective.Window.CALENDAR_MONTH)
    set_status(component, "major_outage", "2026-02-28 23:00")
    set_status(component, "operational", "2026-02-28 23:30")
    clock.move_to("2026-02-28 23:59")
    uptime_rollup()
    february = slo_status(slo)
    # 99.9 % of 28 days: 2,419.2 s of budget, 1,800 s spent.
    assert (february["error_budget_seconds"], february["error_budget_spent_seconds"]) == (2419.2, 1800.0)
    assert february["window_start"] == "2026-02-01" and february["met"] is True
    clock.move_to("2026-03-01 00:30")
    uptime_rollup()
    march = slo_status(slo)
    assert march["window_start"] == "2026-03-01"
    assert (march["error_budget_spent_seconds"], march["error_budget_remaining_percentage"]) == (0.0, 100.0)
    # 31 days in March.
    assert march["error_budget_seconds"] == pytest.approx(0.001 * 31 * 86400)


def test_it_keeps_a_rolling_window_across_the_month_end(clock, component):
    slo = ObjectiveFactory(component=component, window=ServiceLevelObjective.Window.ROLLING, window_days=30)
    set_status(component, "major_outage", "2026-02-28 23:00")
    set_status(component, "operational", "2026-03-01 01:00")
    clock.move_to("2026-03-02 12:00")
    uptime_rollup()
    status = slo_status(slo)
    assert status["window_start"] == "2026-02-01"
    assert status["error_budget_spent_seconds"] == 7200.0
    # 2 h down out of 2,592 s of budget: overspent, and the target missed.
    assert status["met"] is False and status["error_budget_remaining_percentage"] < 0


def test_it_pools_a_groups_components(clock):
    group = ComponentGroupFactory()
    first, _second = (
        ComponentFactory(group=group, created_at=at("2026-01-01 00:00"), status="operational")
        for _ in range(2)
    )
    slo = ObjectiveFactory(group=group, window_days=7, target_percent=Decimal("99"))
    set_status(first, "major_outage", "2026-03-05 00:00")
    set_status(first, "operational", "2026-03-05 12:00")
    clock.move_to("2026-03-08 00:00")
    uptime_rollup()
    status = slo_status(slo)
    # 12 h down out of 2 components × 6 days observed: the 7th day of the window, today, has
    # only begun.
    assert status["attained_percentage"] == pytest.approx(100 * (1 - 12 / (2 * 6 * 24)), abs=1e-4)
    assert status["error_budget_seconds"] == pytest.approx(0.01 * 7 * 86400 * 2)


def test_it_measures_the_burn_rate_of_an_hour(clock, component):
    slo = ObjectiveFactory(component=component)
    set_status(component, "major_outage", "2026-03-05 10:00")
    clock.move_to("2026-03-05 10:30")
    rates = slo_status(slo)["burn_rates"]
    # Half the last hour down at a 0.1 % allowance: 500 times the sustainable rate.
    assert rates["1h"]["burn_rate"] == 500.0 and rates["1h"]["short_window_burn_rate"] == 1000.0
    assert rates["1h"]["threshold"] == 14.4 and rates["6h"]["threshold"] == 6.0


def test_it_raises_the_burn_alert_once_and_resolves_it_when_the_burn_stops(clock, component):
    slo = ObjectiveFactory(component=component)
    set_status(component, "major_outage", "2026-03-05 10:00")
    for minute in range(0, 120, 5):
        clock.move_to(f"2026-03-05 {10 + minute // 60}:{minute % 60:02d}")
        slos_evaluate()
    alert = Alert.objects.get(fingerprint=slo.fingerprint)
    assert alert.alert_type == Alert.Type.SLO and alert.status == Alert.Status.FIRING
    assert AlertEvent.objects.filter(alert=alert, kind=AlertEvent.Kind.FIRED).count() == 1
    assert alert.occurrence_count == 1
    set_status(component, "operational", "2026-03-05 12:00")
    clock.move_to("2026-03-05 12:10")
    slos_evaluate()
    # The six-hour rule still holds: its short window (30 minutes) saw 20 minutes down.
    alert.refresh_from_db()
    assert alert.status == Alert.Status.FIRING
    clock.move_to("2026-03-05 12:31")
    slos_evaluate()
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED
    assert Alert.objects.filter(fingerprint=slo.fingerprint).count() == 1


def test_it_announces_the_burn_alert_through_the_alert_services(clock, component):
    ChannelFactory()
    slo = ObjectiveFactory(component=component)
    set_status(component, "major_outage", "2026-03-05 10:00")
    for minute in (20, 21):
        clock.move_to(f"2026-03-05 10:{minute}")
        slos_evaluate()
        # The escalation sweep's safety net announces what the (absent) worker did not.
        alerts_pending_announce()
    alert = Alert.objects.get(fingerprint=slo.fingerprint)
    assert Message.objects.filter(kind="alert.firing", alert_links__alert=alert).count() == 1


def test_it_does_not_alert_on_a_short_blip(clock, component):
    slo = ObjectiveFactory(component=component)
    set_status(component, "major_outage", "2026-03-05 10:00")
    set_status(component, "operational", "2026-03-05 10:00:30")
    for minute in range(1, 60, 5):
        clock.move_to(f"2026-03-05 10:{minute:02d}")
        slos_evaluate()
    assert not Alert.objects.filter(fingerprint=slo.fingerprint).exists()


def test_it_shows_budget_and_burn_rate_in_the_api_and_console(api, admin_client, clock, component):
    slo = ObjectiveFactory(component=component, name="API availability")
    set_status(component, "major_outage", "2026-03-05 10:00")
    clock.move_to("2026-03-05 10:30")
    body = api.get(f"/api/operations/slos/{slo.pk}").json()
    assert body["burn_rates"]["1h"]["burn_rate"] == 500.0 and body["fast_burn"] == ["1h", "6h"]
    assert body["error_budget_spent_seconds"] == 1800.0
    page = admin_client.get("/admin/reports/servicelevelobjective/")
    assert '<td class="field-burn_1h"><strong>500× (alert at 14.4×)</strong>' in page.content.decode()
