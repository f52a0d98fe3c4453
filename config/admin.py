import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from config.models import AuditEntry, OperationsConfig
from config.runtime_config import config_get


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is written by the audit hooks, never by hand."""

    list_display = ["at", "actor_name", "via", "action", "content_type", "object_repr", "changed_fields"]
    list_filter = ["action", "via", "content_type", "at"]
    search_fields = ["actor_name", "object_repr", "object_id", "path"]
    list_select_related = ["content_type"]
    date_hierarchy = "at"
    fields = [
        "at",
        "actor_name",
        "actor",
        "via",
        "method",
        "path",
        "action",
        "content_type",
        "object_id",
        "object_repr",
        "changes_table",
        "before_json",
        "after_json",
    ]
    readonly_fields = fields

    @admin.display(description="changed")
    def changed_fields(self, entry: AuditEntry) -> str:
        return ", ".join(sorted(entry.changes))[:120]

    @admin.display(description="changes")
    def changes_table(self, entry: AuditEntry):
        rows = [
            format_html("<tr><th>{}</th><td>{}</td><td>{}</td></tr>", name, json.dumps(old), json.dumps(new))
            for name, (old, new) in sorted(entry.changes.items())
        ]
        if not rows:
            return "—"
        return format_html(
            "<table><tr><th>field</th><th>before</th><th>after</th></tr>{}</table>",
            mark_safe("".join(rows)),  # noqa: S308 - each row was escaped by format_html
        )

    @admin.display(description="before")
    def before_json(self, entry: AuditEntry):
        return format_html("<pre>{}</pre>", json.dumps(entry.before, indent=2, sort_keys=True))

    @admin.display(description="after")
    def after_json(self, entry: AuditEntry):
        return format_html("<pre>{}</pre>", json.dumps(entry.after, indent=2, sort_keys=True))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OperationsConfig)
class OperationsConfigAdmin(admin.ModelAdmin):
    list_display = ["__str__", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    def changelist_view(self, request, extra_context=None):
        # One row: go straight to it (created from the environment on first visit).
        from django.shortcuts import redirect

        row = config_get()
        return redirect("admin:config_operationsconfig_change", row.pk)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from django.utils import timezone

        obj.updated_at = timezone.now()
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
