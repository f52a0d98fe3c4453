"""Prometheus Alertmanager webhook payloads (version 4) → Vigil alerts.

Alertmanager cannot correct a payload we refuse, and refusing would lose the alert: control
characters in its texts are cleaned (core.text) instead, so they never reach a mail header."""

from dataclasses import dataclass

from alerts.models import Alert, AlertEvent, Severity
from alerts.services import alert_raise, alert_resolve
from core.text import clean_line, clean_text

SEVERITY_WORDS = {
    "critical": Severity.CRITICAL,
    "page": Severity.CRITICAL,
    "error": Severity.HIGH,
    "high": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "info": Severity.LOW,
    "low": Severity.LOW,
    "none": Severity.LOW,
}


class PayloadError(Exception):
    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.errors = errors or {}


@dataclass
class ExternalAlert:
    status: str
    fingerprint: str
    labels: dict
    annotations: dict
    starts_at: str


def parse(data) -> list[ExternalAlert]:
    if not isinstance(data, dict):
        raise PayloadError("Expected an Alertmanager webhook object.")
    if str(data.get("version", "")) != "4":
        raise PayloadError(
            "Only Alertmanager webhook payload version 4 is supported.", {"version": ['Must be "4".']}
        )
    alerts = data.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("Invalid payload.", {"alerts": ["Must be a list."]})
    parsed, errors = [], {}
    for index, item in enumerate(alerts):
        problems = []
        if not isinstance(item, dict):
            errors[f"alerts[{index}]"] = ["Must be an object."]
            continue
        if item.get("status") not in ("firing", "resolved"):
            problems.append("status must be 'firing' or 'resolved'.")
        labels = item.get("labels")
        if not isinstance(labels, dict) or not labels.get("alertname"):
            problems.append("labels must be an object with an alertname.")
        fingerprint = item.get("fingerprint") or ""
        if (not isinstance(fingerprint, str) or not fingerprint) and isinstance(labels, dict):
            fingerprint = ",".join(f"{k}={labels[k]}" for k in sorted(labels))
        if problems:
            errors[f"alerts[{index}]"] = problems
            continue
        annotations = item.get("annotations") if isinstance(item.get("annotations"), dict) else {}
        starts_at = item.get("startsAt") if isinstance(item.get("startsAt"), str) else ""
        parsed.append(ExternalAlert(item["status"], fingerprint[:150], labels, annotations, starts_at[:100]))
    if errors:
        raise PayloadError("Invalid alerts in the payload; nothing was recorded.", errors)
    return parsed


def apply(alerts: list[ExternalAlert], *, user=None) -> dict:
    counts = {"fired": 0, "repeated": 0, "resolved": 0, "unchanged": 0}
    for item in alerts:
        fingerprint = f"alertmanager:{item.fingerprint}"
        if item.status == "resolved":
            for alert in Alert.objects.filter(fingerprint=fingerprint).open():
                alert_resolve(
                    alert=alert, note="resolved in Alertmanager", actor_type=AlertEvent.Actor.SYSTEM
                )
                counts["resolved"] += 1
            continue
        severity = SEVERITY_WORDS.get(str(item.labels.get("severity", "")).lower(), Severity.HIGH)
        message = item.annotations.get("description") or item.annotations.get("summary") or ""
        raised = alert_raise(
            fingerprint=fingerprint,
            title=clean_line(item.annotations.get("summary") or item.labels["alertname"])[:300],
            severity=severity,
            alert_type=Alert.Type.EXTERNAL,
            message=clean_text(message),
            labels={clean_line(k): clean_line(v) for k, v in item.labels.items()},
            actor_type=AlertEvent.Actor.SYSTEM,
            user=user,
            # Alertmanager re-sends a firing group every repeat_interval; only a new startsAt is
            # a new occurrence of the alert.
            occurrence_key=item.starts_at,
        )
        if raised.created:
            counts["fired"] += 1
        else:
            counts["repeated" if raised.counted else "unchanged"] += 1
    return counts
