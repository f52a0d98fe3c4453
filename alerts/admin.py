from django.contrib import admin, messages
from django.db.models import QuerySet

from alerts.models import Alert, AlertEvent, AlertRule, Silence
from alerts.notify import announcements_batched
from alerts.services import AlertTransitionError, alert_acknowledge, alert_resolve


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


class AlertEventInline(admin.TabularInline):
    model = AlertEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "at", "actor_type", "actor", "actor_name", "detail"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
    inlines = [AlertEventInline]
    actions = ["acknowledge", "resolve"]
    readonly_fields = [
        field.name
        for field in Alert._meta.fields
        if field.name not in ("acknowledgement_note", "resolution_note", "action_taken")
    ]

    def has_add_permission(self, request):
        return False

    def _apply(self, request, queryset: QuerySet, service, verb: str) -> None:
        done, refused = 0, []
        with announcements_batched():  # the selected alerts go out together, not one by one
            for alert in queryset:
                try:
                    service(alert=alert, user=request.user)
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


@admin.register(Silence)
class SilenceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "starts_at", "ends_at", "author", "comment"]
    search_fields = ["comment"]
    list_select_related = ["author"]
    readonly_fields = ["author", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)
