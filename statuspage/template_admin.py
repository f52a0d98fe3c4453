"""Incident templates in the admin: edited through statuspage.services, and opened as an
incident in two clicks (the "Open incident" button of a template, then "Open it"; or the
changelist action)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from statuspage import services
from statuspage.models import ComponentStatus, IncidentTemplate, IncidentTemplateComponent


class IncidentTemplateComponentInline(admin.TabularInline):
    model = IncidentTemplateComponent
    fields = ["component", "status"]
    extra = 1


def can_open_incidents(request) -> bool:
    return request.user.has_perm("statuspage.add_incident")


@admin.register(IncidentTemplate)
class IncidentTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "status", "impact_override", "notify", "updated_at"]
    list_filter = ["status", "notify"]
    search_fields = ["name", "title", "message"]
    fields = ["name", "title", "status", "message", "impact_override", "notify"]
    inlines = [IncidentTemplateComponentInline]
    actions = ["open_incident"]
    change_form_template = "admin/statuspage/incidenttemplate/change_form.html"

    def has_open_permission(self, request) -> bool:
        return can_open_incidents(request)

    def save_model(self, request, obj, form, change):
        # Saved with its components in save_related: one service call, once the inline is read.
        pass

    def save_related(self, request, form, formsets, change):
        components = {}
        for formset in formsets:
            for row in formset.cleaned_data:
                if row and row.get("component") and not row.get("DELETE"):
                    components[row["component"]] = row.get("status") or ComponentStatus.DEGRADED_PERFORMANCE
        data = form.cleaned_data
        fields = {name: data[name] for name in services.TEMPLATE_FIELDS if name in data}
        if change:
            saved = services.incident_template_update(template=form.instance, components=components, **fields)
        else:
            saved = services.incident_template_create(components=components, **fields)
        form.instance.pk = saved.pk
        for formset in formsets:
            # What the change message reads; the service, not formset.save(), wrote the rows.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def _open(self, request, template: IncidentTemplate):
        try:
            incident = services.incident_create_from_template(template=template, author=request.user)
        except (services.StatusPageError, ValueError) as exc:
            self.message_user(request, f"{template}: {exc}", messages.ERROR)
            return None
        self.message_user(request, f"Incident #{incident.pk} “{incident.title}” opened from {template}.")
        return incident

    @admin.action(description="Open an incident from each selected template", permissions=["open"])
    def open_incident(self, request, queryset):
        opened = [self._open(request, template) for template in queryset]
        opened = [incident for incident in opened if incident is not None]
        if len(opened) == 1:
            return redirect(reverse("admin:statuspage_incident_change", args=[opened[0].pk]))
        return None

    def get_urls(self):
        return [
            path(
                "<int:pk>/open-incident/",
                self.admin_site.admin_view(self.open_incident_view),
                name="statuspage_incidenttemplate_open",
            ),
            *super().get_urls(),
        ]

    def open_incident_view(self, request, pk: int):
        """GET shows what the incident will say; POST opens it and goes to its page."""
        if not can_open_incidents(request):
            raise PermissionDenied
        template = get_object_or_404(IncidentTemplate.objects.prefetch_related("affected__component"), pk=pk)
        if request.method == "POST":
            incident = self._open(request, template)
            if incident is not None:
                return redirect(reverse("admin:statuspage_incident_change", args=[incident.pk]))
            return redirect(reverse("admin:statuspage_incidenttemplate_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Open an incident from “{template}”",
            "template": template,
            "opts": self.model._meta,
            "rows": template.affected.all(),
        }
        return TemplateResponse(request, "admin/statuspage/incidenttemplate/open_incident.html", context)
