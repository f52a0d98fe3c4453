"""Named schemas of the JSON answers that drf-spectacular cannot read off a serializer: the plain
Django views (public status page, Statuspage v2, subscribers, health) and the DRF views that
answer in those shapes (incident and maintenance writes, probe reports). The postprocessing hook
in config.schema adds them under components/schemas; operations refer to them by `ref(name)`.

Each mirrors the function that builds the answer (named beside it); the API fuzz checks every
answer against them, so a field added there without one here fails a test."""

from healthchecks.checks import DEGRADED, DOWN, OK
from statuspage.models import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus, StatusSource


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict, *, optional: tuple[str, ...] = (), **extra) -> dict:
    """An object whose properties are all present (except `optional`), as the builders write them."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        **extra,
    }


def _array(items: dict) -> dict:
    return {"type": "array", "items": items}


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
DATE_TIME = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
URI = {"type": "string", "format": "uri"}

ENUMS = {
    "ComponentStatusEnum": ComponentStatus.values,
    "IncidentStatusEnum": IncidentStatus.values,
    # As Statuspage knows them: statuspage.v2 shows a cancelled window as completed.
    "MaintenanceStatusEnum": [s for s in MaintenanceStatus.values if s != MaintenanceStatus.CANCELLED],
    "ImpactEnum": Impact.values,
    "StatusSourceEnum": StatusSource.values,
    "HealthStatusEnum": [OK, DEGRADED, DOWN],
}

# statuspage.v2: page, component, group, _update, incident, maintenance, status
STATUSPAGE_V2 = {
    "StatusPage": _object(
        {"id": STRING, "name": STRING, "url": STRING, "time_zone": STRING, "updated_at": DATE_TIME}
    ),
    # A component, or a group of them (group: true, and the member ids in `components`).
    "StatusComponent": _object(
        {
            "id": STRING,
            "name": STRING,
            "status": ref("ComponentStatusEnum"),
            "created_at": DATE_TIME,
            "updated_at": DATE_TIME,
            "position": INTEGER,
            "description": _nullable(STRING),
            "showcase": BOOLEAN,
            "start_date": _nullable(DATE),
            "group_id": _nullable(STRING),
            "page_id": STRING,
            "group": BOOLEAN,
            "only_show_if_degraded": BOOLEAN,
            "components": _array(STRING),
        },
        optional=("components",),
    ),
    "StatusAffectedComponent": _object(
        {"code": STRING, "name": STRING, "old_status": STRING, "new_status": STRING}
    ),
    "StatusUpdate": _object(
        {
            "id": STRING,
            # An incident's status, or a maintenance window's.
            "status": STRING,
            "body": STRING,
            "incident_id": STRING,
            "created_at": DATE_TIME,
            "updated_at": DATE_TIME,
            "display_at": _nullable(DATE_TIME),
            "affected_components": _nullable(_array(ref("StatusAffectedComponent"))),
            "deliver_notifications": BOOLEAN,
            "custom_tweet": _nullable(STRING),
            "tweet_id": _nullable(STRING),
        }
    ),
    "StatusIncident": _object(
        {
            "id": STRING,
            "name": STRING,
            "status": ref("IncidentStatusEnum"),
            "created_at": DATE_TIME,
            "updated_at": DATE_TIME,
            "monitoring_at": _nullable(DATE_TIME),
            "resolved_at": _nullable(DATE_TIME),
            "impact": ref("ImpactEnum"),
            "shortlink": URI,
            "started_at": _nullable(DATE_TIME),
            "page_id": STRING,
            "incident_updates": _array(ref("StatusUpdate")),
            "components": _array(ref("StatusComponent")),
            "postmortem_body": _nullable(STRING),
            "postmortem_published_at": _nullable(DATE_TIME),
        }
    ),
    "StatusMaintenance": _object(
        {
            "id": STRING,
            "name": STRING,
            "status": ref("MaintenanceStatusEnum"),
            "created_at": DATE_TIME,
            "updated_at": DATE_TIME,
            "monitoring_at": _nullable(DATE_TIME),
            "resolved_at": _nullable(DATE_TIME),
            "impact": {"type": "string", "enum": ["maintenance"]},
            "shortlink": URI,
            "started_at": _nullable(DATE_TIME),
            "page_id": STRING,
            "incident_updates": _array(ref("StatusUpdate")),
            "components": _array(ref("StatusComponent")),
            "scheduled_for": DATE_TIME,
            "scheduled_until": DATE_TIME,
            # Vigil's own: set when the window was cancelled (its status then reads completed).
            "cancelled_at": _nullable(DATE_TIME),
        }
    ),
    "StatusIndicator": _object({"indicator": ref("ImpactEnum"), "description": STRING}),
}

# statuspage.public_api and the staff writes of statuspage.api
STATUSPAGE_ANSWERS = {
    "StatusSummary": _object(
        {
            "page": ref("StatusPage"),
            "components": _array(ref("StatusComponent")),
            "incidents": _array(ref("StatusIncident")),
            "scheduled_maintenances": _array(ref("StatusMaintenance")),
            "status": ref("StatusIndicator"),
        }
    ),
    "StatusOverall": _object({"page": ref("StatusPage"), "status": ref("StatusIndicator")}),
    "StatusComponentList": _object({"page": ref("StatusPage"), "components": _array(ref("StatusComponent"))}),
    "StatusIncidentList": _object({"page": ref("StatusPage"), "incidents": _array(ref("StatusIncident"))}),
    "StatusMaintenanceList": _object(
        {"page": ref("StatusPage"), "scheduled_maintenances": _array(ref("StatusMaintenance"))}
    ),
    "IncidentPage": _object(
        {
            "count": INTEGER,
            "page": INTEGER,
            "pages": INTEGER,
            "incidents": _array(ref("StatusIncident")),
        }
    ),
    "IncidentEnvelope": _object({"incident": ref("StatusIncident")}),
    # statuspage.live.document
    "LiveStatus": _object(
        {
            "version": STRING,
            "status": ref("StatusIndicator"),
            "components": _object(
                {
                    "total": INTEGER,
                    "affected": _array(
                        _object({"id": STRING, "name": STRING, "status": ref("ComponentStatusEnum")})
                    ),
                }
            ),
            "incidents": _array(
                _object(
                    {
                        "id": STRING,
                        "name": STRING,
                        "status": ref("IncidentStatusEnum"),
                        "impact": ref("ImpactEnum"),
                        "shortlink": STRING,
                    }
                )
            ),
            "scheduled_maintenances": _array(
                _object(
                    {
                        "id": STRING,
                        "name": STRING,
                        "status": ref("MaintenanceStatusEnum"),
                        "scheduled_for": DATE_TIME,
                        "scheduled_until": DATE_TIME,
                    }
                )
            ),
        }
    ),
    "MaintenanceEnvelope": _object({"scheduled_maintenance": ref("StatusMaintenance")}),
    # statuspage.uptime.DayFigure.as_dict
    "UptimeDay": _object(
        {
            "date": DATE,
            "uptime_percentage": _nullable(NUMBER),
            "observed_seconds": INTEGER,
            "major_outage_seconds": INTEGER,
            "partial_outage_seconds": INTEGER,
            "degraded_performance_seconds": INTEGER,
            "under_maintenance_seconds": INTEGER,
        }
    ),
    "ComponentUptime": _object(
        {
            "component": _object({"id": STRING, "name": STRING, "status": ref("ComponentStatusEnum")}),
            "days": INTEGER,
            "uptime_percentage": _nullable(NUMBER),
            "formula": STRING,
            "daily": _array(ref("UptimeDay")),
        }
    ),
}

# statuspage.subscriber_views (their JSON answers; a browser gets a page instead)
SUBSCRIBERS = {
    "SubscribeAccepted": _object({"detail": STRING, "email": {"type": "string", "format": "email"}}),
    "SubscriptionState": _object({"status": STRING, "detail": STRING}),
    "UrlSubscribed": _object(
        {
            "detail": STRING,
            "kind": STRING,
            "status": STRING,
            "manage_url": STRING,
            "unsubscribe_url": STRING,
            "secret": STRING,
        },
        optional=("secret",),
    ),
    "SubscriptionAlready": _object({"detail": STRING, "kind": STRING, "status": STRING}),
    "SubscriptionComponents": _object({"email": STRING, "status": STRING, "components": _array(INTEGER)}),
}

# healthchecks.views (_body, detailed) and healthchecks.probes.history
HEALTH_CHECK = {
    # Each check adds its own readings (round trip, queue depth, ...) beside these.
    "type": "object",
    "properties": {
        "status": ref("HealthStatusEnum"),
        "latency_ms": NUMBER,
        "error": _nullable(STRING),
    },
    "required": ["status", "latency_ms", "error"],
    "additionalProperties": True,
}
HEALTH_REPORT_FIELDS = {
    "status": ref("HealthStatusEnum"),
    "checked_at": DATE_TIME,
    "failed": _array(STRING),
    "checks": {"type": "object", "additionalProperties": ref("HealthCheck")},
}
PROBE_CERTIFICATE = _object(
    {
        "expires_at": _nullable(DATE_TIME),
        "days_left": _nullable(INTEGER),
        "checked_at": DATE_TIME,
        "error": STRING,
    }
)
HEALTH = {
    "HealthCheck": HEALTH_CHECK,
    "HealthLive": _object({"status": ref("HealthStatusEnum")}),
    "HealthReport": _object(HEALTH_REPORT_FIELDS),
    "HealthReportDetailed": _object({**HEALTH_REPORT_FIELDS, "version": STRING, "uptime_seconds": NUMBER}),
    "ProbeState": _object(
        {
            "id": INTEGER,
            "kind": ref("ProbeKindEnum"),
            "enabled": BOOLEAN,
            "url": STRING,
            "interval_seconds": INTEGER,
            "last_checked_at": _nullable(DATE_TIME),
            "last_ok": _nullable(BOOLEAN),
            "last_status_code": _nullable(INTEGER),
            "last_latency_ms": _nullable(NUMBER),
            "last_error": STRING,
            "consecutive_failures": INTEGER,
            "consecutive_successes": INTEGER,
            "down": BOOLEAN,
            "manual_hold_until": _nullable(DATE_TIME),
            "certificate": _nullable(PROBE_CERTIFICATE),
        }
    ),
    "ServiceState": _object(
        {
            "id": INTEGER,
            "name": STRING,
            "slug": STRING,
            "status": ref("ComponentStatusEnum"),
            "status_source": ref("StatusSourceEnum"),
            "status_changed_at": _nullable(DATE_TIME),
            "probe": _nullable(ref("ProbeState")),
            "probes": _array(ref("ProbeState")),
        }
    ),
    "SystemStatus": _object(
        {
            "status": ref("ComponentStatusEnum"),
            "checked_at": DATE_TIME,
            "summary": _object(
                {
                    "components": INTEGER,
                    "probed": INTEGER,
                    "probes_down": INTEGER,
                    "by_status": {"type": "object", "additionalProperties": INTEGER},
                }
            ),
            "services": _array(ref("ServiceState")),
        }
    ),
    "ServiceHistory": _object(
        {
            "service": ref("ServiceState"),
            "hours": INTEGER,
            "since": DATE_TIME,
            "until": DATE_TIME,
            "uptime_percent": _nullable(NUMBER),
            "status_changes": _array(
                _object(
                    {
                        "at": DATE_TIME,
                        "from_status": ref("ComponentStatusEnum"),
                        "to_status": ref("ComponentStatusEnum"),
                        "source": ref("StatusSourceEnum"),
                        "note": STRING,
                    }
                )
            ),
            "checks": _object(
                {
                    "total": INTEGER,
                    "failed": INTEGER,
                    "slow": INTEGER,
                    "availability_percent": _nullable(NUMBER),
                    "latency_ms": _nullable(
                        _object(
                            {"avg": _nullable(NUMBER), "p95": _nullable(NUMBER), "max": _nullable(NUMBER)}
                        )
                    ),
                }
            ),
            "results": _array(
                _object(
                    {
                        "probe": INTEGER,
                        "checked_at": DATE_TIME,
                        "ok": BOOLEAN,
                        "slow": BOOLEAN,
                        "status_code": _nullable(INTEGER),
                        "latency_ms": _nullable(NUMBER),
                        "error": STRING,
                    }
                )
            ),
        }
    ),
}

SCHEMAS = {
    **{name: {"type": "string", "enum": list(values)} for name, values in ENUMS.items()},
    **STATUSPAGE_V2,
    **STATUSPAGE_ANSWERS,
    **SUBSCRIBERS,
    **HEALTH,
}
