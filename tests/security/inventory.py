"""Every write the project serves, read from the URL resolver (and the admin registry), so a new
endpoint, admin page or action is covered by the security checks without a list to update."""

import re

from django.contrib import admin

from config.url_inventory import url_patterns

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# Public writes by design: subscribers act through the secret in their link (the CSRF checks
# cover them instead), jobs ping their heartbeat check by its secret key (no session, no CSRF:
# cron and curl have neither; tests/healthchecks/test_heartbeat_checks.py covers them), Twilio
# posts a voice call's key press, signed with the channel's auth token
# (tests/alerts/test_voice_acknowledge.py). An alert's signed action link acts on POST with a
# CSRF token, and Slack's button presses are authenticated by Slack's request signature
# (tests/alerts/test_action_links.py, test_slack_buttons.py). A visitor's "having trouble" report
# is anonymous by design: it only adds to a counter, refuses cross-site posts and is throttled
# (tests/statuspage/test_visitor_reports.py).
PUBLIC_WRITES = re.compile(
    r"^/api/status/(subscribe|confirm/\{token\}|unsubscribe/\{token\}|manage/\{token\})$|^/ping/"
    r"|^/report-trouble$"
    r"|^/integrations/twilio/voice/"
    r"|^/alerts/act/\{alert_id\}/\{action\}/\{token\}$|^/integrations/slack/interactivity$"
)

# Writes that take an agent key, not a staff login (healthchecks/agents/api.py): staff and
# anonymous callers alike get 401 there; tests/healthchecks/test_agent_api.py checks them.
AGENT_WRITES = re.compile(r"^/api/agent/")
# A person's own rows, which every staff user writes whatever their role (their contact methods,
# notification rules and API keys): a Viewer may write these, but only their own, so a Viewer's write of
# the world's rows (someone else's) is a 404, or a 400 for a body that is not a valid row of theirs.
OWN_ROWS = re.compile(r"^/api/operations/(users/me/|api-keys)")
OWN_ROWS_MODELS = {"oncall.contactmethod", "oncall.notificationrule", "config.apikey"}


def view_methods(pattern) -> list[str] | None:
    """The unsafe methods a DRF view answers; None for a plain Django view (try them all)."""
    cls = getattr(pattern.callback, "cls", None)
    if cls is None:
        return None
    actions = getattr(pattern.callback, "actions", None)
    if actions:
        return sorted(m.upper() for m in actions if m.upper() in UNSAFE)
    return sorted(m.upper() for m in cls.http_method_names if m.upper() in UNSAFE and hasattr(cls, m))


def api_writes() -> list[tuple[str, str, bool]]:
    """(path, method, declared) for every route outside the admin: a DRF view's declared unsafe
    methods, and every unsafe method for plain views (declared=False: they should answer 405)."""
    found = []
    for path, pattern in url_patterns():
        if path.startswith("/admin/") or PUBLIC_WRITES.match(path) or AGENT_WRITES.match(path):
            continue
        methods = view_methods(pattern)
        for method in UNSAFE if methods is None else methods:
            found.append((path, method, methods is not None))
    return found


def admin_url_names() -> set[str]:
    """Names of every admin route, as the resolver lists them."""
    return {pattern.name for path, pattern in url_patterns() if path.startswith("/admin/") and pattern.name}


def admin_models() -> list[tuple[type, admin.ModelAdmin]]:
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def fill(path: str, world: dict) -> str:
    """A concrete URL for an OpenAPI-style path, with the id of a row of the right kind."""
    ids = [
        ("/probe-locations/", world["location"].pk),
        ("/agent-keys/", world["agent_key"].pk),
        ("/component-quorums/", world["quorum"].pk),
        ("/alerts/", world["alert"].pk),
        ("/alert-rules/", world["rule"].pk),
        ("/contact-methods/", world["contact_method"].pk),
        ("/api-keys/", world["api_key"].pk),
        ("/escalation-policies/", world["escalation_policy"].pk),
        ("/silences/", world["silence"].pk),
        ("/probes/", world["probe"].pk),
        ("/checks/", world["check"].pk),
        ("/check-projects/", world["check_project"].pk),
        ("/components/", world["component"].pk),
        ("/incidents/", world["incident"].pk),
        ("/maintenance/", world["maintenance"].pk),
    ]
    for marker, pk in ids:
        if marker in path:
            return re.sub(r"\{[^}]+\}", str(pk), path, count=1)
    return re.sub(r"\{[^}]+\}", "1", path)
