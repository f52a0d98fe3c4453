"""Alert counts for Prometheus (monitoring/prometheus.py lists this collector)."""

from collections.abc import Iterable

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily, Metric

from alerts.models import Alert, AlertRule, Severity


def alert_metrics() -> Iterable[Metric]:
    open_alerts = GaugeMetricFamily(
        "vigil_alerts_open", "Open alerts by status and severity", labels=["status", "severity"]
    )
    counts = {
        (row["status"], row["severity"]): row["n"]
        for row in Alert.objects.open().values("status", "severity").annotate(n=Count("id"))
    }
    for status in (Alert.Status.FIRING, Alert.Status.ACKNOWLEDGED):
        for severity in Severity.values:
            open_alerts.add_metric([status, severity], counts.get((status, severity), 0))
    yield open_alerts
    rules = GaugeMetricFamily(
        "vigil_alert_rules", "Enabled alert rules by evaluation state", labels=["state"]
    )
    states = dict(AlertRule.objects.filter(enabled=True).values_list("state").annotate(n=Count("id")))
    for state in AlertRule.State.values:
        rules.add_metric([state], states.get(state, 0))
    yield rules
    failing = AlertRule.objects.filter(enabled=True).exclude(last_error="").count()
    yield GaugeMetricFamily(
        "vigil_alert_rules_failing", "Enabled rules whose last evaluation failed", value=failing
    )
