"""The rules every installation starts with, from the threshold environment variables."""

from django.conf import settings

from alerts.models import AlertRule

VISITOR_RULE_NAME = "Visitors report trouble"


def default_rules() -> list[dict]:
    return [
        {
            "name": "High response time",
            "description": "p95 response time of the web endpoints over RESPONSE_TIME_THRESHOLD (ms).",
            "metric_name": "http.server.duration",
            "category": "response_time",
            "aggregation": AlertRule.Aggregation.P95,
            "operator": AlertRule.Operator.GT,
            "threshold": settings.RESPONSE_TIME_THRESHOLD,
            "duration_minutes": 5,
            "severity": "high",
        },
        {
            "name": "High error rate",
            "description": "Share of failed requests over ERROR_RATE_THRESHOLD (%).",
            "metric_name": "http.server.error_rate",
            "category": "error_rate",
            "aggregation": AlertRule.Aggregation.AVG,
            "operator": AlertRule.Operator.GT,
            "threshold": settings.ERROR_RATE_THRESHOLD,
            "duration_minutes": 5,
            "severity": "critical",
        },
        {
            "name": "High memory usage",
            "description": "Memory use over MEMORY_USAGE_THRESHOLD (%).",
            "metric_name": "system.memory_percent",
            "category": "memory_usage",
            "aggregation": AlertRule.Aggregation.AVG,
            "operator": AlertRule.Operator.GT,
            "threshold": settings.MEMORY_USAGE_THRESHOLD,
            "duration_minutes": 10,
            "severity": "high",
        },
        {
            "name": "High CPU usage",
            "description": "CPU use over CPU_USAGE_THRESHOLD (%).",
            "metric_name": "system.cpu_percent",
            "category": "cpu_usage",
            "aggregation": AlertRule.Aggregation.AVG,
            "operator": AlertRule.Operator.GT,
            "threshold": settings.CPU_USAGE_THRESHOLD,
            "duration_minutes": 10,
            "severity": "medium",
        },
        {
            "name": "Disk almost full",
            "description": "Disk use over DISK_USAGE_THRESHOLD (%) on any mount.",
            "metric_name": "system.disk_percent",
            "category": "disk_usage",
            "aggregation": AlertRule.Aggregation.MAX,
            "operator": AlertRule.Operator.GT,
            "threshold": settings.DISK_USAGE_THRESHOLD,
            "duration_minutes": 5,
            "severity": "high",
        },
        {
            # Evaluated per component, and only while the page shows it operational
            # (alerts/visitor_reports.py): the rows carry the component as a label.
            "name": VISITOR_RULE_NAME,
            "description": (
                "VISITOR_REPORT_ALERT_THRESHOLD or more visitor reports about one component in 5 minutes "
                "while the status page shows it operational."
            ),
            "metric_name": "statuspage.visitor_reports",
            "category": "visitor_reports",
            "aggregation": AlertRule.Aggregation.SUM,
            "operator": AlertRule.Operator.GTE,
            "threshold": settings.VISITOR_REPORT_ALERT_THRESHOLD,
            "window_minutes": 5,
            "duration_minutes": 0,
            "severity": "high",
        },
    ]


def default_rules_create(rule_model=AlertRule, *, names: list[str] | None = None) -> int:
    """Create the default rules that do not exist yet (by name); returns how many were made.
    The data migrations pass their historical model, and a later one the `names` it adds (so
    it does not bring back a default rule staff deleted)."""
    created = 0
    for values in default_rules():
        if names is not None and values["name"] not in names:
            continue
        _, made = rule_model.objects.get_or_create(name=values["name"], defaults=values)
        created += made
    return created
