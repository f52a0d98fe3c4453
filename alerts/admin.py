from django.contrib import admin, messages
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join

from alerts import drills_admin  # noqa: F401  (registers the paging drills' admin)
from alerts.models import Alert, AlertRule, Silence
from alerts.notify import announcements_batched
from alerts.services import (
    AlertTransitionError,
    alert_acknowledge,
    alert_declare_incident,
    alert_resolve,
    silence_create,
    silence_update,
)
from alerts.timeline import Entry, alert_timeline


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "enabled",
        "severity",
        "state",
        "describe",
        "last_reading",
        "last_evaluated_at",
        "has_error",
    ]
    list_filter = ["enabled", "severity", "state", "flapping"]
    search_fields = ["name", "metric_name", "category", "description"]
    filter_horizontal = ["channels"]
    list_select_related = ["escalation_policy"]
    readonly_fields = [*AlertRule.EVALUATION_FIELDS, "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "description", "enabled", "severity", "runbook_url", "component"]}),
        ("Metric", {"fields": ["metric_name", "metric_type", "category", "source", "endpoint", "tags"]}),
        (
            "Condition",
            {
                "fields": [
                    "aggregation",
                    "window_minutes",
                    "operator",
                    "threshold",
                    "duration_minutes",
                    "keep_firing_for_minutes",
                    "no_data",
                ]
            },
        ),
        ("Notify", {"fields": ["channels", "escalation_policy"]}),
        ("State", {"fields": readonly_fields}),
    ]

    @admin.display(description="condition")
    def describe(self, rule: AlertRule) -> str:
        return rule.describe_condition()

    @admin.display(description="last value", ordering="last_value")
    def last_reading(self, rule: AlertRule) -> str:
        # Four significant digits: an aggregate like 34.79224999 % reads as 34.79.
        return "" if rule.last_value is None else f"{rule.last_value:.4g}"

    @admin.display(boolean=True, description="error")
    def has_error(self, rule: AlertRule) -> bool:
        return bool(rule.last_error)


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else ""


def _event_text(data: dict) -> tuple:
    who = data["actor"] or data["actor_type"]
    via = f" via {data['via']}" if data["via"] else ""
    return data["kind_display"], f"by {who}{via}" + (f": {data['detail']}" if data["detail"] else "")


def _delivery_text(data: dict) -> tuple:
    to = data["recipient"] + (f" ({data['channel']['name']})" if data["channel"] else "")
    if data["status"] == "sent":
        outcome = f"accepted {_when(data['sent_at'])}"
    elif data["status"] == "failed":
        outcome = f"failed: {data['last_error'][:200]}"
    else:
        outcome = "pending" + (f", last error: {data['last_error'][:200]}" if data["last_error"] else "")
    tries = "; ".join(
        f"{_when(a['started_at'])} {a['outcome']}" + (f" ({a['error'][:80]})" if a["error"] else "")
        for a in data["attempts"]
    )
    return (
        f"Notification ({data['message_kind']})",
        f"{data['kind']} to {to}: {outcome}; {len(data['attempts'])} attempt(s)"
        + (f": {tries}" if tries else ""),
    )


def timeline_html(entries: list[Entry]):
    rows = [
        (_when(entry.at), *(_event_text(entry.data) if entry.type == "event" else _delivery_text(entry.data)))
        for entry in entries
    ]
    if not rows:
        return "—"
    return format_html(
        '<table class="alert-timeline"><tr><th>when</th><th>what</th><th>details</th></tr>{}</table>',
        format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
    )


class UnacknowledgedFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("unacknowledged", "Firing, unacknowledged"), ("open", "Open (firing or acknowledged)")]

    def queryset(self, request, queryset):
        if self.value() == "unacknowledged":
            return queryset.unacknowledged()
        if self.value() == "open":
            return queryset.open()
        return queryset


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "severity",
        "status",
        "alert_type",
        "occurrence_count",
        "fired_at",
        "escalation_level",
    ]
    list_filter = [UnacknowledgedFilter, "status", "severity", "alert_type"]
    search_fields = ["title", "message", "fingerprint", "metric"]
    list_select_related = ["rule", "acknowledged_by"]
    date_hierarchy = "fired_at"
    actions = ["acknowledge", "resolve", "declare_incident"]
    readonly_fields = [
        *(
            field.name
            for field in Alert._meta.fields
            if field.name not in ("acknowledgement_note", "resolution_note", "action_taken")
        ),
        "declared_incident",
        "timeline",
    ]

    @admin.display(description="status page incident")
    def declared_incident(self, alert: Alert):
        if alert.incident_id is None:
            return "— (the “Declare an incident” action opens one)"
        incident = alert.incident
        return format_html(
            '<a href="{}">#{} {}</a> ({}) · <a href="{}">public page</a>',
            reverse("admin:statuspage_incident_change", args=[incident.pk]),
            incident.pk,
            incident.title,
            incident.get_status_display(),
            incident.get_absolute_url(),
        )

    @admin.display(description="timeline")
    def timeline(self, alert: Alert):
        """The same entries as GET /api/operations/alerts/<id>/timeline (alerts.timeline)."""
        if alert.pk is None:
            return "—"
        found = alert_timeline(alert)
        more = (
            format_html("<p>Only the first {} entries are shown.</p>", len(found.entries))
            if found.truncated
            else ""
        )
        return format_html("{}{}", timeline_html(found.entries), more)

    def has_add_permission(self, request):
        return False

    def _apply(self, request, queryset: QuerySet, service, verb: str) -> None:
        done, refused = 0, []
        with announcements_batched():  # the selected alerts go out together, not one by one
            for alert in queryset:
                try:
                    service(alert=alert, user=request.user, via="admin")
                    done += 1
                except AlertTransitionError as exc:
                    refused.append(f"#{alert.pk}: {exc}")
        if done:
            self.message_user(request, f"{done} alert(s) {verb}.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not changed: " + "; ".join(refused), messages.WARNING)

    @admin.action(description="Acknowledge selected alerts", permissions=["change"])
    def acknowledge(self, request, queryset):
        self._apply(request, queryset, alert_acknowledge, "acknowledged")

    @admin.action(description="Resolve selected alerts", permissions=["change"])
    def resolve(self, request, queryset):
        self._apply(request, queryset, alert_resolve, "resolved")

    def has_declare_permission(self, request) -> bool:
        return request.user.has_perm("alerts.change_alert") and request.user.has_perm(
            "statuspage.add_incident"
        )

    @admin.action(
        description="Declare an incident on the status page (rule name and summary)", permissions=["declare"]
    )
    def declare_incident(self, request, queryset):
        for alert in queryset:
            try:
                declared = alert_declare_incident(alert=alert, user=request.user, via="admin")
            except AlertTransitionError as exc:
                self.message_user(request, f"#{alert.pk}: {exc}", messages.WARNING)
                continue
            verb = "opened" if declared.created else "already open"
            self.message_user(
                request, f"#{alert.pk}: incident #{declared.incident.pk} “{declared.incident}” {verb}."
            )


@admin.register(Silence)
class SilenceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "starts_at", "ends_at", "author", "comment"]
    search_fields = ["comment"]
    list_select_related = ["author"]
    readonly_fields = ["author", "created_at"]

    def save_model(self, request, obj, form, change):
        if change:
            silence_update(silence=obj)
            return
        created = silence_create(
            matchers=obj.matchers,
            starts_at=obj.starts_at,
            ends_at=obj.ends_at,
            author=request.user,
            comment=obj.comment,
        )
        obj.pk, obj.author, obj.created_at = created.pk, created.author, created.created_at
