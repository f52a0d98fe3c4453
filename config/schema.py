"""The OpenAPI schema: drf-spectacular describes the DRF views; the public JSON and health
endpoints are plain Django views (served from caches, no DRF on the hot path), so they are
described here by hand and added to the schema by a postprocessing hook."""

import copy
import re

from config.schema_responses import SCHEMAS, ref
from config.throttling import throttled
from config.url_inventory import served_paths
from statuspage.uptime import MAX_DAYS as UPTIME_DAYS

PUBLIC = []  # no security: anyone may call these


def json_ok(schema: str, description: str = "JSON document") -> dict:
    return {"200": {"description": description, "content": {"application/json": {"schema": ref(schema)}}}}


TEXT_OK = {
    "200": {
        "description": "Prometheus text format",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}
NOT_FOUND = {
    "404": {
        "description": "No such object",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
}
BAD_PAGE = {
    "400": {
        "description": "The page is not a number",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
}
CANONICAL = {
    "301": {
        "description": "Another spelling of this URL (a leading zero, a default or repeated "
        "parameter): Location names the one the page cache serves",
        "headers": {"Location": {"required": True, "schema": {"type": "string"}}},
    }
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until the next request is accepted",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}
THROTTLED = {
    "429": {
        "description": "Too many requests from this address",
        "headers": RETRY_AFTER,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
}
HEALTH_REPORT = {"application/json": {"schema": ref("HealthReport")}}
HEALTH = {
    "200": {"description": "Healthy (or degraded)", "content": HEALTH_REPORT},
    "503": {"description": "Down", "content": HEALTH_REPORT},
}
HEALTH_LIVE = {
    "200": {
        "description": "The process answers",
        "content": {"application/json": {"schema": ref("HealthLive")}},
    }
}


def _id(name: str) -> list[dict]:
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}]


def _op(summary: str, tag: str, responses: dict, parameters: list | None = None, public: bool = True) -> dict:
    operation = {"operationId": "", "summary": summary, "tags": [tag], "responses": responses}
    if parameters:
        operation["parameters"] = parameters
    if public:
        operation["security"] = PUBLIC
    return operation


def _get(
    summary: str, tag: str, responses: dict, parameters: list | None = None, public: bool = True
) -> dict:
    return {"get": _op(summary, tag, responses, parameters, public)}


def _token(name: str = "token") -> list[dict]:
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}]


SUBSCRIBERS = "subscribers (public)"
COMPONENT_IDS = {"type": "array", "items": {"type": "integer"}}
# JSON only: the status page's own form posts here too, but that is the page's, not the API's.
SUBSCRIBE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "description": "An e-mail address (`email`), or a URL: `webhook`, or `kind` "
                "(webhook, slack, teams) with `url`. A URL is proved within the request: a webhook "
                "must echo a challenge, Slack and Teams must accept a test message.",
                "properties": {
                    "email": {"type": "string", "format": "email"},
                    "kind": {"type": "string", "enum": ["email", "webhook", "slack", "teams"]},
                    "url": {"type": "string", "format": "uri"},
                    "webhook": {"type": "string", "format": "uri"},
                    "components": COMPONENT_IDS,
                },
            }
        },
    },
}
MANAGE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"components": COMPONENT_IDS},
                "required": ["components"],
            }
        }
    },
}
# The subscriber endpoints answer JSON to a JSON client and a page to a browser.
PAGE = {"text/html": {"schema": {"type": "string"}}}
ERROR_OR_PAGE = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}, **PAGE}


def _json_or_page(schema: str) -> dict:
    return {"application/json": {"schema": ref(schema)}, **PAGE}


ACCEPTED = {
    "202": {
        "description": "Confirmation mail sent (JSON to a JSON client, a page to a browser)",
        "content": _json_or_page("SubscribeAccepted"),
    },
    "201": {
        "description": "A URL answered its challenge or took its test message and is subscribed; a "
        "webhook's signing secret is in `secret`, shown only this once",
        "content": _json_or_page("UrlSubscribed"),
    },
    "200": {
        "description": "The URL was subscribed already (nothing changed, no secret)",
        "content": _json_or_page("SubscriptionAlready"),
    },
}
BAD_INPUT = {
    "400": {
        "description": "Invalid input, or a URL that failed its challenge or test message (left pending)",
        "content": ERROR_OR_PAGE,
    }
}
BAD_LINK = {
    "400": {"description": "The link is not valid, has expired or was used", "content": ERROR_OR_PAGE}
}
TOKEN_PAGE = {
    "200": {
        "description": "The subscription's state (JSON), or a page",
        "content": _json_or_page("SubscriptionState"),
    },
    **BAD_LINK,
}
MANAGE_PAGE = {
    "200": {
        "description": "The subscription's components (JSON), or a page",
        "content": _json_or_page("SubscriptionComponents"),
    },
    **BAD_LINK,
}
SUBSCRIBE_THROTTLED = {
    "429": {
        "description": "Too many subscribe requests from this address or for this e-mail address",
        "headers": RETRY_AFTER,
        "content": ERROR_OR_PAGE,
    }
}
METRICS_FORBIDDEN = {
    "403": {
        "description": "Neither METRICS_TOKEN, a staff token nor an address in METRICS_ALLOWED_IPS",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


STATUS_PAGE = "status page (public)"
V2 = "statuspage v2 (public)"
# path -> path item, for the plain Django JSON views
PLAIN_VIEWS: dict[str, dict] = {
    "/api/status": _get(
        "Overall status, components, open incidents, maintenance",
        STATUS_PAGE,
        {**json_ok("StatusSummary"), **THROTTLED},
    ),
    "/api/status/live": _get(
        "The small status document an open page polls; send its version back in If-None-Match",
        STATUS_PAGE,
        {
            **json_ok("LiveStatus", 'The current document; its ETag is W/"<version>"'),
            "304": {"description": "Nothing changed since the version in If-None-Match"},
            **THROTTLED,
        },
        [{"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}}],
    ),
    "/api/status/stream": _get(
        "Server-Sent Events: a `status` event with the live document whenever it changes "
        "(only when STATUSPAGE_STREAM is on)",
        STATUS_PAGE,
        {
            "200": {
                "description": "An event stream that ends after STATUSPAGE_STREAM_MAX_SECONDS",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            "404": {
                "description": "The stream is off on this server",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
            **THROTTLED,
        },
        [{"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string"}}],
    ),
    "/api/status/incidents": _get(
        "Incidents, newest first (?page=)",
        STATUS_PAGE,
        {**json_ok("IncidentPage"), **CANONICAL, **BAD_PAGE, **THROTTLED},
        [{"name": "page", "in": "query", "required": False, "schema": {"type": "integer"}}],
    ),
    "/api/status/incidents/{id}": _get(
        "One incident with its updates",
        STATUS_PAGE,
        {**json_ok("IncidentEnvelope"), **CANONICAL, **NOT_FOUND, **THROTTLED},
        _id("id"),
    ),
    "/api/status/components/{id}/uptime": _get(
        f"A component's daily uptime (?days=1..{UPTIME_DAYS}, default {UPTIME_DAYS})",
        STATUS_PAGE,
        {**json_ok("ComponentUptime"), **CANONICAL, **NOT_FOUND, **THROTTLED},
        [
            *_id("id"),
            {
                "name": "days",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": UPTIME_DAYS},
            },
        ],
    ),
    "/api/v2/summary.json": _get("Statuspage v2: summary", V2, {**json_ok("StatusSummary"), **THROTTLED}),
    "/api/v2/status.json": _get("Statuspage v2: status", V2, {**json_ok("StatusOverall"), **THROTTLED}),
    "/api/v2/components.json": _get(
        "Statuspage v2: components", V2, {**json_ok("StatusComponentList"), **THROTTLED}
    ),
    "/api/v2/incidents.json": _get(
        "Statuspage v2: incidents", V2, {**json_ok("StatusIncidentList"), **THROTTLED}
    ),
    "/api/v2/incidents/unresolved.json": _get(
        "Statuspage v2: unresolved incidents", V2, {**json_ok("StatusIncidentList"), **THROTTLED}
    ),
    "/api/v2/scheduled-maintenances.json": _get(
        "Statuspage v2: maintenance", V2, {**json_ok("StatusMaintenanceList"), **THROTTLED}
    ),
    "/api/v2/scheduled-maintenances/upcoming.json": _get(
        "Statuspage v2: upcoming maintenance", V2, {**json_ok("StatusMaintenanceList"), **THROTTLED}
    ),
    "/api/v2/scheduled-maintenances/active.json": _get(
        "Statuspage v2: active maintenance", V2, {**json_ok("StatusMaintenanceList"), **THROTTLED}
    ),
    "/api/status/subscribe": {
        "post": {
            **_op(
                "Subscribe an e-mail address (double opt-in) or a webhook, Slack or Teams URL",
                SUBSCRIBERS,
                {**ACCEPTED, **BAD_INPUT, **SUBSCRIBE_THROTTLED},
            ),
            "requestBody": SUBSCRIBE_BODY,
        }
    },
    "/api/status/confirm/{token}": {
        "get": _op("A pending subscription's state", SUBSCRIBERS, TOKEN_PAGE, _token()),
        "post": _op("Confirm a subscription", SUBSCRIBERS, TOKEN_PAGE, _token()),
    },
    "/api/status/unsubscribe/{token}": {
        "get": _op("Unsubscribe page", SUBSCRIBERS, TOKEN_PAGE, _token()),
        "post": _op("Unsubscribe (one click)", SUBSCRIBERS, TOKEN_PAGE, _token()),
    },
    "/api/status/manage/{token}": {
        "get": _op("A subscription's components", SUBSCRIBERS, MANAGE_PAGE, _token()),
        "post": {
            **_op("Change a subscription's components", SUBSCRIBERS, MANAGE_PAGE, _token()),
            "requestBody": MANAGE_BODY,
        },
    },
    "/health": _get("Overall health (load balancers)", "health", HEALTH),
    "/health/live": _get("Liveness: the process answers", "health", HEALTH_LIVE),
    "/health/ready": _get("Readiness: database, cache, broker", "health", HEALTH),
    "/health/database": _get("Database round trip", "health", HEALTH),
    "/health/system": _get("CPU, memory and disk against the configured thresholds", "health", HEALTH),
    "/metrics": _get(
        "Prometheus metrics (METRICS_TOKEN / METRICS_ALLOWED_IPS)",
        "monitoring",
        {**TEXT_OK, **METRICS_FORBIDDEN},
    ),
}

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
    "required": ["detail"],
}


def add_plain_views(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: add the plain views (only those whose URL exists,
    so the schema never lists a path that is not served) and the error shape."""
    served = {_placeholders(path) for path in served_paths()}
    for path, item in PLAIN_VIEWS.items():
        if _placeholders(path) in served:
            base = path.strip("/").replace("/", "_").replace(".json", "").replace("{", "").replace("}", "")
            result["paths"].setdefault(
                path,
                {
                    method: {**copy.deepcopy(operation), "operationId": f"{base}_{method}"}
                    for method, operation in item.items()
                },
            )
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name, schema in SCHEMAS.items():
        schemas.setdefault(name, copy.deepcopy(schema))  # drf-spectacular's own enums keep their notes
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, item in result["paths"].items():
        for method, operation in item.items():
            if operation.get("tags") in (None, ["api"], ["health"]):
                operation["tags"] = [_tag(path)]
            _document_errors(path, operation, drf=method not in PLAIN_VIEWS.get(path, {}))
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    response.setdefault("content", error)
                    if response.get("description") in (None, "", "No response body"):
                        response["description"] = {"404": "No such object"}.get(code, "Error")
    result["paths"] = dict(sorted(result["paths"].items()))
    _drop_impossible_defaults(result["components"]["schemas"])
    _wall_clock_times(result["components"]["schemas"])
    return result


# JSON Schema's "time" is RFC 3339's full-time, which carries an offset; Vigil's times of day
# (hand-offs, covered hours, the drill's start) are wall-clock times in a named zone beside them.
WALL_CLOCK_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def _wall_clock_times(node) -> None:
    if isinstance(node, dict):
        if node.get("format") == "time":
            del node["format"]
            node.update(pattern=WALL_CLOCK_TIME, example="10:00")
        for value in node.values():
            _wall_clock_times(value)
    elif isinstance(node, list):
        for value in node:
            _wall_clock_times(value)


def _document_errors(path: str, operation: dict, drf: bool) -> None:
    """The errors every operation of a kind can answer, whatever its view says: the rules
    live in shared code (authentication, URL routing, pagination, filters, throttling)."""
    responses = operation.setdefault("responses", {})
    parameters = operation.get("parameters", [])
    query = {p["name"] for p in parameters if p.get("in") == "query"}
    if operation.get("security") != []:
        responses.setdefault("401", {"description": "No or bad credentials"})
        responses.setdefault("403", {"description": "Not staff, or the role lacks the permission"})
    if "requestBody" in operation:
        responses.setdefault("400", {"description": "Invalid input: field errors in `errors`"})
        if drf:  # DRF's parsers refuse a body in any other media type (the plain views read forms)
            responses.setdefault("415", {"description": "The body is not in a media type listed here"})
    if query - {"page", "cursor"}:
        responses.setdefault("400", {"description": "Invalid query parameter: errors in `errors`"})
    if any(p.get("in") == "path" for p in parameters):
        # No such row, or an id that is not a number (then no route matches).
        responses.setdefault("404", {"description": "No such object"})
    if query & {"page", "cursor"}:
        responses.setdefault("404", {"description": "No such page"})
    if throttled(path):
        responses.setdefault("429", THROTTLED["429"])


def _drop_impossible_defaults(node) -> None:
    """A field with default "" that refuses "" when sent (a DRF CharField without allow_blank,
    a choice field): keep the rule, drop the default that breaks it in the spec."""
    if isinstance(node, dict):
        if node.get("default") == "" and (
            node.get("minLength", 0) >= 1 or any(k in node for k in ("enum", "allOf", "oneOf", "$ref"))
        ):
            del node["default"]
        for value in node.values():
            _drop_impossible_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _drop_impossible_defaults(value)


OPERATIONS_TAGS = {
    "alerts": "alerts",
    "alert-rules": "alerts",
    "silences": "alerts",
    "integrations": "alerts",
    "paging-drills": "oncall",
    "channels": "notifications",
    "metrics": "metrics",
    "infrastructure": "metrics",
    "performance": "metrics",
    "dashboard": "console",
    "config": "console",
    "backups": "console",
    "system": "probes",
    "probes": "probes",
    "reports": "reports",
    "slos": "reports",
    "response-breaches": "reports",
    "response-targets": "reports",
    "business-calendars": "reports",
    "report-schedules": "reports",
}


def _tag(path: str) -> str:
    """Group the docs by what an operator looks for, not by URL prefix."""
    if path.startswith("/api/status/admin/"):
        return "status page (staff)"
    if path.startswith("/health"):
        return "health"
    parts = path.strip("/").split("/")
    if parts[:2] == ["api", "operations"] and len(parts) > 2:
        return OPERATIONS_TAGS.get(parts[2], parts[2])
    return parts[1] if len(parts) > 1 else parts[0]


def _placeholders(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)
