from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from healthchecks.pings.api import ping_url
from healthchecks.pings.models import Check, CheckProject
from healthchecks.pings.services import CHECK_SETTINGS, check_create, check_pause, check_resume, check_update

RECENT_PINGS = 20


@admin.register(CheckProject)
class CheckProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "ping_key"]
    readonly_fields = ["ping_key"]


@admin.register(Check)
class CheckAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "kind", "last_ping_at", "due_at", "last_duration", "component"]
    list_filter = ["state", "kind", "project"]
    search_fields = ["name", "slug"]
    list_select_related = ["component", "project"]
    readonly_fields = ["ping_address", "builtin_job", *Check.STATE_FIELDS, "recent_pings"]
    fields = [*CHECK_SETTINGS, "ping_address", "builtin_job", *Check.STATE_FIELDS, "recent_pings"]
    actions = ["pause", "resume"]

    @admin.display(description="Ping URL")
    def ping_address(self, check):
        if not check.pk:
            return "(shown once saved)"
        return format_html("<code>{}</code>", ping_url(check))

    @admin.display(description=f"Last {RECENT_PINGS} pings")
    def recent_pings(self, check):
        pings = check.pings.order_by("-at", "-id")[:RECENT_PINGS] if check.pk else []
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{p.at:%Y-%m-%d %H:%M:%S}",
                    p.get_kind_display(),
                    p.exit_status if p.exit_status is not None else "",
                    p.duration or "",
                    p.remote_addr,
                )
                for p in pings
            ),
        )
        if not rows:
            return "No pings yet."
        return format_html(
            "<table><thead><tr><th>At (UTC)</th><th>Kind</th><th>Exit status</th><th>Duration</th>"
            "<th>From</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    filter_horizontal = ["channels"]

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in CHECK_SETTINGS if name in form.cleaned_data}
        saved = check_update(check=obj, **values) if change else check_create(**values)
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        # The channels were set by the service in save_model; the form must not write them again.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description="Pause selected checks", permissions=["change"])
    def pause(self, request, queryset):
        for check in queryset:
            check_pause(check=check)
        self.message_user(request, f"{queryset.count()} check(s) paused.", messages.SUCCESS)

    @admin.action(description="Resume selected checks", permissions=["change"])
    def resume(self, request, queryset):
        for check in queryset:
            check_resume(check=check)
        self.message_user(request, f"{queryset.count()} check(s) resumed.", messages.SUCCESS)
