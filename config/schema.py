"""The OpenAPI schema: drf-spectacular describes the DRF views; the public JSON and health
endpoints are plain Django views (served from caches, no DRF on the hot path), so they are
described here by hand and added to the schema by a postprocessing hook."""

import re

PUBLIC = []  # no security: anyone may call these
JSON_OK = {
    "200": {"description": "JSON document", "content": {"application/json": {"schema": {"type": "object"}}}}
}
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
THROTTLED = {
    "429": {
        "description": "Too many requests from this address",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
}
HEALTH = {
    "200": {
        "description": "Healthy (or degraded)",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    "503": {"description": "Down", "content": {"application/json": {"schema": {"type": "object"}}}},
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
SUBSCRIBE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "email": {"type": "string", "format": "email"},
                    "components": {"type": "array", "items": {"type": "integer"}},
                },
                "required": ["email"],
            }
        },
        "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
    },
}
ACCEPTED = {"202": {"description": "Confirmation mail sent (JSON to a JSON client, a page to a browser)"}}
BAD_INPUT = {"400": {"description": "Invalid input"}}
TOKEN_PAGE = {**JSON_OK, **NOT_FOUND, **BAD_INPUT}


STATUS_PAGE = "status page (public)"
# path -> path item, for the plain Django JSON views
PLAIN_VIEWS: dict[str, dict] = {
    "/api/status": _get(
        "Overall status, components, open incidents, maintenance", STATUS_PAGE, {**JSON_OK, **THROTTLED}
    ),
    "/api/status/incidents": _get(
        "Incidents, newest first (?page=)",
        STATUS_PAGE,
        {**JSON_OK, **THROTTLED},
        [{"name": "page", "in": "query", "required": False, "schema": {"type": "integer"}}],
    ),
    "/api/status/incidents/{id}": _get(
        "One incident with its updates", STATUS_PAGE, {**JSON_OK, **NOT_FOUND, **THROTTLED}, _id("id")
    ),
    "/api/status/components/{id}/uptime": _get(
        "A component's daily uptime", STATUS_PAGE, {**JSON_OK, **NOT_FOUND, **THROTTLED}, _id("id")
    ),
    "/api/v2/summary.json": _get(
        "Statuspage v2: summary", "statuspage v2 (public)", {**JSON_OK, **THROTTLED}
    ),
    "/api/v2/status.json": _get("Statuspage v2: status", "statuspage v2 (public)", {**JSON_OK, **THROTTLED}),
    "/api/v2/components.json": _get(
        "Statuspage v2: components", "statuspage v2 (public)", {**JSON_OK, **THROTTLED}
    ),
    "/api/v2/incidents.json": _get(
        "Statuspage v2: incidents", "statuspage v2 (public)", {**JSON_OK, **THROTTLED}
    ),
    "/api/v2/incidents/unresolved.json": _get(
        "Statuspage v2: unresolved incidents", "statuspage v2 (public)", {**JSON_OK, **THROTTLED}
    ),
    "/api/v2/scheduled-maintenances.json": _get(
        "Statuspage v2: maintenance", "statuspage v2 (public)", {**JSON_OK, **THROTTLED}
    ),
    "/api/v2/scheduled-maintenances/upcoming.json": _get(
        "Statuspage v2: upcoming maintenance", "statuspage v2 (public)", {**JSON_OK, **THROTTLED}
    ),
    "/api/v2/scheduled-maintenances/active.json": _get(
        "Statuspage v2: active maintenance", "statuspage v2 (public)", {**JSON_OK, **THROTTLED}
    ),
    "/api/status/subscribe": {
        "post": {
            **_op(
                "Subscribe an e-mail address (double opt-in)",
                SUBSCRIBERS,
                {**ACCEPTED, **BAD_INPUT, **THROTTLED},
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
        "get": _op("A subscription's components", SUBSCRIBERS, TOKEN_PAGE, _token()),
        "post": _op("Change a subscription's components", SUBSCRIBERS, TOKEN_PAGE, _token()),
    },
    "/health": _get("Overall health (load balancers)", "health", HEALTH),
    "/health/live": _get("Liveness: the process answers", "health", HEALTH),
    "/health/ready": _get("Readiness: database, cache, broker", "health", HEALTH),
    "/health/database": _get("Database round trip", "health", HEALTH),
    "/health/system": _get("CPU, memory and disk against the configured thresholds", "health", HEALTH),
    "/metrics": _get("Prometheus metrics (METRICS_TOKEN / METRICS_ALLOWED_IPS)", "monitoring", TEXT_OK),
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
    from config.url_inventory import served_paths

    served = {_placeholders(path) for path in served_paths()}
    for path, item in PLAIN_VIEWS.items():
        if _placeholders(path) in served:
            base = path.strip("/").replace("/", "_").replace(".json", "").replace("{", "").replace("}", "")
            result["paths"].setdefault(
                path,
                {
                    method: {**operation, "operationId": f"{base}_{method}"}
                    for method, operation in item.items()
                },
            )
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, item in result["paths"].items():
        for operation in item.values():
            if operation.get("tags") in (None, ["api"], ["health"]):
                operation["tags"] = [_tag(path)]
            responses = operation.setdefault("responses", {})
            if operation.get("security") != []:
                responses.setdefault("401", {"description": "No or bad credentials"})
                responses.setdefault("403", {"description": "Not staff, or the role lacks the permission"})
            if "requestBody" in operation:
                responses.setdefault("400", {"description": "Invalid input: field errors in `errors`"})
            for code, response in responses.items():
                if code.startswith("4"):
                    response["content"] = error
                    if response.get("description") in (None, "", "No response body"):
                        response["description"] = {"404": "No such object"}.get(code, "Error")
    result["paths"] = dict(sorted(result["paths"].items()))
    _drop_impossible_defaults(result["components"]["schemas"])
    return result


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
    "metrics": "metrics",
    "infrastructure": "metrics",
    "performance": "metrics",
    "dashboard": "console",
    "config": "console",
    "system": "probes",
    "probes": "probes",
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
