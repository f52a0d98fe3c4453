"""The status page's part of the operations console. Every write that changes what the public sees
goes through statuspage.services, exactly as the API does."""

from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.utils.html import format_html_join

from core.text import validate_text
from statuspage import (
    services,
    template_admin,  # noqa: F401  (registers the incident templates' admin)
)
from statuspage.models import (
    OPEN_INCIDENT_STATUSES,
    Component,
    ComponentGroup,
    ComponentStatus,
    ComponentStatusChange,
    ComponentUptimeDay,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    Maintenance,
    MaintenanceSchedule,
    MaintenanceStatus,
    MaintenanceUpdate,
    StatusPageBranding,
    StatusSource,
)
from statuspage.schedules import services as schedule_services
from statuspage.schedules.rules import InvalidRule, recurrence


class ComponentInline(admin.TabularInline):
    model = Component
    fields = ["name", "position", "status"]
    readonly_fields = ["status"]
    extra = 0
    show_change_link = True


@admin.register(ComponentGroup)
class ComponentGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "collapsed"]
    list_editable = ["position", "collapsed"]
    search_fields = ["name"]
    inlines = [ComponentInline]


def _set_status_action(status: str):
    def action(modeladmin, request, queryset):
        changed = sum(
            services.component_set_status(
                component=c, status=status, source=StatusSource.MANUAL, actor=request.user
            )
            for c in queryset
        )
        modeladmin.message_user(
            request, f"{changed} component(s) set to {ComponentStatus(status).label.lower()}."
        )

    action.__name__ = f"set_{status}"
    # An action without permissions is offered to everyone who can see the list (Viewers too).
    action.allowed_permissions = ("change",)
    action.short_description = f"Set status: {ComponentStatus(status).label.lower()}"
    return action


class NotOperationalFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("yes", "Not operational")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(status=ComponentStatus.OPERATIONAL)
        return queryset


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "group",
        "status",
        "status_source",
        "status_changed_at",
        "show_uptime",
        "position",
    ]
    list_filter = [NotOperationalFilter, "status", "status_source", "group", "type"]
    list_select_related = ["group"]
    search_fields = ["name", "description", "health_check_url"]
    filter_horizontal = ["depends_on"]
    actions = [_set_status_action(s) for s in ComponentStatus.values]
    # The status only changes through the actions (services), so each change is recorded.
    readonly_fields = ["status", "status_source", "status_changed_at", "created_at"]
    fields = [
        "name",
        "description",
        "type",
        "group",
        "position",
        "health_check_url",
        "depends_on",
        "show_uptime",
        "status",
        "status_source",
        "status_changed_at",
        "created_at",
    ]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {name: data[name] for name in services.COMPONENT_EDITABLE_FIELDS if name in data}
        depends_on = data.get("depends_on") or []
        if change:
            saved = services.component_update(component=obj, depends_on=depends_on, **fields)
        else:
            saved = services.component_create(depends_on=depends_on, **fields)
        obj.pk = saved.pk
        if saved.health_check_url and (not change or "health_check_url" in form.changed_data):
            # The probes (a layer above the status page) pick a new URL up at their next round.
            self.message_user(
                request,
                f"{saved.name} is not probed yet: probing starts at the next probe round "
                f"(run_probes, every {settings.HEALTH_CHECK_INTERVAL} s).",
                messages.WARNING,
            )

    def save_related(self, request, form, formsets, change):
        # The service already set depends_on; only inlines (none today) would remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(ComponentStatusChange)
class ComponentStatusChangeAdmin(admin.ModelAdmin):
    list_display = ["at", "component", "from_status", "to_status", "source", "actor", "note"]
    list_filter = ["source", "to_status", "component"]
    list_select_related = ["component", "actor"]
    search_fields = ["component__name", "note"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ComponentUptimeDay)
class ComponentUptimeDayAdmin(admin.ModelAdmin):
    list_display = [
        "day",
        "component",
        "observed_seconds",
        "major_outage_seconds",
        "partial_outage_seconds",
        "closed",
    ]
    list_filter = ["closed", "component"]
    list_select_related = ["component"]
    date_hierarchy = "day"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class IncidentUpdateInline(admin.TabularInline):
    """The timeline, read-only: new updates are posted with the form fields above it."""

    model = IncidentUpdate
    fields = ["display_at", "status", "body", "affected_components", "notify", "author"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class IncidentForm(forms.ModelForm):
    update_status = forms.ChoiceField(
        choices=[("", "— no new update —"), *IncidentStatus.choices],
        required=False,
        label="Post update: status",
    )
    update_message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Message", validators=[validate_text]
    )
    affected = forms.ModelMultipleChoiceField(
        Component.objects.all(),
        required=False,
        label="Components",
        widget=admin.widgets.FilteredSelectMultiple("components", False),
    )
    component_status = forms.ChoiceField(
        choices=ComponentStatus.choices, required=False, label="Set these components to"
    )
    notify = forms.BooleanField(required=False, initial=True, label="Notify subscribers")

    class Meta:
        model = Incident
        fields = ["title", "impact_override", "postmortem_body"]

    def clean(self):
        data = super().clean()
        if not self.instance.pk and not (data.get("update_status") and data.get("update_message")):
            raise forms.ValidationError("A new incident needs a first update: a status and a message.")
        if data.get("update_status") and not data.get("update_message"):
            self.add_error("update_message", "An update needs a message.")
        return data


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    form = IncidentForm
    list_display = ["title", "status", "impact", "impact_override", "started_at", "resolved_at", "created_by"]
    list_filter = ["status", "impact", ("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["created_by"]
    search_fields = ["title", "updates__body"]
    date_hierarchy = "started_at"
    readonly_fields = [
        "status",
        "impact",
        "started_at",
        "resolved_at",
        "postmortem_published_at",
        "created_by",
    ]
    inlines = [IncidentUpdateInline]
    actions = ["resolve"]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # View-only (the Viewers role): the post-update fields belong to the form, not the
            # row, and shown read-only they would be looked up on the incident (a crash).
            return [f for f in fields if f not in IncidentForm.declared_fields]
        return fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        components = {
            c: data.get("component_status") or ComponentStatus.OPERATIONAL for c in data.get("affected") or []
        }
        try:
            if not change:
                created = services.incident_create(
                    title=data["title"],
                    message=data["update_message"],
                    status=data["update_status"],
                    components=components,
                    impact_override=data.get("impact_override", ""),
                    notify=data.get("notify", True),
                    author=request.user,
                )
                obj.pk = created.pk
                return
            services.incident_edit(
                incident=obj, title=data["title"], impact_override=data.get("impact_override", "")
            )
            if data.get("update_status"):
                services.incident_update_create(
                    incident=obj,
                    status=data["update_status"],
                    message=data["update_message"],
                    components=components,
                    notify=data.get("notify", True),
                    author=request.user,
                )
            obj.refresh_from_db()  # the form's copy predates the services' writes
            body = data.get("postmortem_body")
            publish = obj.status == IncidentStatus.RESOLVED or (
                obj.status == IncidentStatus.POSTMORTEM and body != obj.postmortem_body
            )
            if body and publish:
                services.incident_postmortem_publish(incident=obj, body=body, author=request.user)
        except (services.StatusPageError, ValueError) as exc:
            self.message_user(request, str(exc), messages.ERROR)

    @admin.action(
        description="Resolve selected incidents (restores their components)", permissions=["change"]
    )
    def resolve(self, request, queryset):
        done = 0
        for incident in queryset.filter(status__in=OPEN_INCIDENT_STATUSES):
            services.incident_update_create(
                incident=incident,
                status=IncidentStatus.RESOLVED,
                message="This incident has been resolved.",
                author=request.user,
            )
            done += 1
        self.message_user(request, f"{done} incident(s) resolved.")


class MaintenanceUpdateInline(admin.TabularInline):
    model = MaintenanceUpdate
    fields = ["display_at", "status", "body", "notify", "author"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class MaintenanceForm(forms.ModelForm):
    notify = forms.BooleanField(required=False, initial=True, label="Notify subscribers")
    record_history = forms.BooleanField(
        required=False,
        label="Record past maintenance",
        help_text="For a window that is already over: stored as completed, and nobody is mailed.",
    )

    class Meta:
        model = Maintenance
        fields = ["title", "description", "components", "scheduled_for", "scheduled_until"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and data.get("scheduled_for") and data.get("scheduled_until"):
            try:
                services.maintenance_window_check(
                    scheduled_for=data["scheduled_for"],
                    scheduled_until=data["scheduled_until"],
                    record_history=data.get("record_history", False),
                )
            except services.InvalidWindow as exc:
                self.add_error(exc.field, str(exc))
        return data


@admin.register(Maintenance)
class MaintenanceAdmin(admin.ModelAdmin):
    form = MaintenanceForm
    list_display = ["title", "status", "scheduled_for", "scheduled_until", "auto_start", "auto_complete"]
    list_filter = ["status", "auto_start", "auto_complete", ("schedule", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "description"]
    date_hierarchy = "scheduled_for"
    filter_horizontal = ["components"]
    fields = [
        "title",
        "description",
        "components",
        "scheduled_for",
        "scheduled_until",
        "auto_start",
        "auto_complete",
        "status",
        "started_at",
        "completed_at",
        "cancelled_at",
        "sequence",
        "schedule",
        "created_by",
    ]
    readonly_fields = [
        "status",
        "started_at",
        "completed_at",
        "cancelled_at",
        "sequence",
        "schedule",
        "created_by",
    ]
    inlines = [MaintenanceUpdateInline]
    actions = ["start", "complete", "cancel"]

    def get_fields(self, request, obj=None):
        # Whether to announce, and whether this is history, are decided when scheduling.
        if obj is None:
            return [f for f in self.fields if f not in self.readonly_fields] + ["notify", "record_history"]
        return self.fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            fields = {name: data[name] for name in services.MAINTENANCE_EDITABLE_FIELDS if name in data}
            try:
                services.maintenance_edit(
                    maintenance=obj, components=data.get("components") or [], author=request.user, **fields
                )
            except (services.StatusPageError, ValueError) as exc:
                self.message_user(request, str(exc), messages.ERROR)
            return
        created = services.maintenance_schedule(
            title=data["title"],
            description=data.get("description", ""),
            scheduled_for=data["scheduled_for"],
            scheduled_until=data["scheduled_until"],
            components=data.get("components") or [],
            auto_start=data.get("auto_start", True),
            auto_complete=data.get("auto_complete", True),
            notify=data.get("notify", True),
            record_history=data.get("record_history", False),
            author=request.user,
        )
        obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        # The services already set the components; only the (read-only) inline remains.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def _run(self, request, queryset, action, verb: str):
        done = 0
        for maintenance in queryset:
            try:
                action(maintenance=maintenance, author=request.user)
                done += 1
            except services.StatusPageError as exc:
                self.message_user(request, f"{maintenance}: {exc}", messages.WARNING)
        self.message_user(request, f"{done} maintenance window(s) {verb}.")

    @admin.action(description="Start selected maintenance now", permissions=["change"])
    def start(self, request, queryset):
        self._run(
            request,
            queryset.filter(status=MaintenanceStatus.SCHEDULED),
            services.maintenance_start,
            "started",
        )

    @admin.action(description="Complete selected maintenance (restores components)", permissions=["change"])
    def complete(self, request, queryset):
        self._run(request, queryset, services.maintenance_complete, "completed")

    @admin.action(
        description="Cancel selected maintenance (releases components, tells subscribers)",
        permissions=["change"],
    )
    def cancel(self, request, queryset):
        done = 0
        for maintenance in queryset:
            try:
                services.maintenance_cancel(maintenance=maintenance, user=request.user)
                done += 1
            except services.StatusPageError as exc:
                self.message_user(request, f"{maintenance}: {exc}", messages.WARNING)
        self.message_user(request, f"{done} maintenance window(s) cancelled.")


class MaintenanceScheduleForm(forms.ModelForm):
    class Meta:
        model = MaintenanceSchedule
        fields = list(schedule_services.SCHEDULE_FIELDS)

    def clean(self):
        data = super().clean()
        needed = ("rrule", "starts_on", "start_time", "time_zone")
        if all(data.get(name) for name in needed):
            try:
                recurrence(
                    data["rrule"],
                    starts_on=data["starts_on"],
                    start_time=data["start_time"],
                    time_zone=data["time_zone"],
                )
            except InvalidRule as exc:
                self.add_error("rrule", str(exc))
        return data


@admin.register(MaintenanceSchedule)
class MaintenanceScheduleAdmin(admin.ModelAdmin):
    """Recurring maintenance. Saving and deleting go through statuspage.schedules.services, so
    the occurrences that have not started follow every change (see docs/status-page.md)."""

    form = MaintenanceScheduleForm
    list_display = ["title", "rrule", "start_time", "time_zone", "duration", "active", "next_start"]
    list_filter = ["active", "time_zone"]
    search_fields = ["title", "description", "rrule"]
    filter_horizontal = ["components"]
    readonly_fields = ["next_occurrences", "created_by", "created_at", "updated_at"]
    actions = ["deactivate"]

    def get_fields(self, request, obj=None):
        fields = list(MaintenanceScheduleForm.Meta.fields)
        return fields if obj is None else [*fields, *self.readonly_fields]

    @admin.display(description="next start")
    def next_start(self, obj: MaintenanceSchedule):
        starts = obj.next_starts(1) if obj.active else []
        return starts[0].astimezone(ZoneInfo(obj.time_zone)).strftime("%Y-%m-%d %H:%M %Z") if starts else "-"

    @admin.display(description="next occurrences")
    def next_occurrences(self, obj: MaintenanceSchedule):
        starts = obj.next_starts(5)
        if not starts:
            return "None: the rule gives no further date."
        zone = ZoneInfo(obj.time_zone)
        return format_html_join(
            "",
            "<div>{} – {} ({} UTC)</div>",
            (
                (
                    start.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z"),
                    (start + obj.duration).astimezone(zone).strftime("%H:%M %Z"),
                    start.strftime("%Y-%m-%d %H:%M"),
                )
                for start in starts
            ),
        )

    def save_model(self, request, obj, form, change):
        data = dict(form.cleaned_data)
        components = data.pop("components", None) or []
        try:
            if change:
                schedule_services.schedule_update(
                    schedule=obj, components=components, author=request.user, **data
                )
            else:
                obj.pk = schedule_services.schedule_create(
                    components=components, author=request.user, **data
                ).pk
        except (InvalidRule, ValueError) as exc:
            self.message_user(request, str(exc), messages.ERROR)

    def save_related(self, request, form, formsets, change):
        # The services already set the components.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        schedule_services.schedule_delete(schedule=obj, author=request.user)

    def delete_queryset(self, request, queryset):
        for schedule in queryset:
            schedule_services.schedule_delete(schedule=schedule, author=request.user)

    @admin.action(description="Switch off (cancels occurrences not started)", permissions=["change"])
    def deactivate(self, request, queryset):
        done = 0
        for schedule in queryset.filter(active=True):
            schedule_services.schedule_update(schedule=schedule, active=False, author=request.user)
            done += 1
        self.message_user(request, f"{done} schedule(s) switched off.")


@admin.register(StatusPageBranding)
class StatusPageBrandingAdmin(admin.ModelAdmin):
    """One set of branding: the list goes straight to its change page. Saving calls
    services.branding_update, which also turns the page cache over."""

    fields = [
        "page_title",
        "logo",
        "favicon",
        "accent_colour",
        "custom_css",
        "footer_links",
        "about",
        "updated_at",
    ]
    readonly_fields = ["updated_at"]

    def changelist_view(self, request, extra_context=None):
        from django.core.exceptions import PermissionDenied
        from django.shortcuts import redirect

        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if StatusPageBranding.objects.filter(pk=StatusPageBranding.SINGLETON_PK).exists():
            return redirect("admin:statuspage_statuspagebranding_change", StatusPageBranding.SINGLETON_PK)
        return redirect("admin:statuspage_statuspagebranding_add")

    def has_add_permission(self, request):
        exists = StatusPageBranding.objects.filter(pk=StatusPageBranding.SINGLETON_PK).exists()
        return not exists and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in services.BRANDING_TEXT_FIELDS}
        for name in services.BRANDING_PICTURES:
            if name in form.changed_data:
                # A new upload, or False when "Clear" was ticked (back to Vigil's own picture).
                values[name] = form.cleaned_data[name] or None
        row = services.branding_update(values=values)
        obj.pk = row.pk
        obj.updated_at = row.updated_at
