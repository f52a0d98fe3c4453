from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from core.pagination import CheapPaginator
from healthchecks.models import Heartbeat, Probe, ProbeResult, validate_probe_url
from healthchecks.probes.services import ProbeError, probe_configure, probe_hold, probe_hold_end_check
from healthchecks.serializers import HOLD_FIELD, SETTINGS_FIELDS


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["kind", "name", "last_seen"]
    list_filter = ["kind"]
    search_fields = ["name"]
    readonly_fields = ["kind", "name", "last_seen"]

    def has_add_permission(self, request):
        return False


class ProbeForm(forms.ModelForm):
    url = forms.CharField(
        max_length=200,
        required=False,
        validators=[validate_probe_url],
        help_text="http probes: the component's health_check_url (http or https).",
    )

    class Meta:
        model = Probe
        fields = ["component", "url", *SETTINGS_FIELDS, "locations", HOLD_FIELD]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["url"].initial = self.instance.component.health_check_url
        if self.instance.pk and "kind" in self.fields:  # a viewer's form has every field read-only
            self.fields["kind"].disabled = True  # another kind is another probe

    def clean(self):
        cleaned = super().clean()
        component = cleaned.get("component") or getattr(self.instance, "component", None)
        http = cleaned.get("kind") == Probe.Kind.HTTP
        if (
            http
            and not self.instance.pk
            and component
            and component.probes.filter(kind=Probe.Kind.HTTP).exists()
        ):
            self.add_error("kind", "The component has an HTTP probe already; change that one.")
        if http and not (cleaned.get("url") or "").strip():
            self.add_error("url", "An http probe needs the component's URL.")
        return cleaned

    def clean_manual_hold_until(self):
        until = self.cleaned_data[HOLD_FIELD]
        if HOLD_FIELD in self.changed_data:
            try:
                probe_hold_end_check(until=until)
            except ProbeError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return until


@admin.register(Probe)
class ProbeAdmin(admin.ModelAdmin):
    form = ProbeForm
    list_display = [
        "component",
        "kind",
        "enabled",
        "is_down",
        "last_ok",
        "last_status_code",
        "last_latency_ms",
        "last_checked_at",
        "consecutive_failures",
        "cert_days_left",
    ]
    list_filter = ["kind", "enabled", "is_down", "last_ok", "method"]
    list_select_related = ["component"]
    search_fields = ["component__name", "component__health_check_url", "host", "last_error"]
    readonly_fields = [*Probe.STATE_FIELDS, "next_due_at"]
    actions = ["probe_now"]

    def get_readonly_fields(self, request, obj=None):
        # A probe stays with its component once created.
        return [*self.readonly_fields, "component"] if obj else self.readonly_fields

    def get_fields(self, request, obj=None):
        # A probe's credentials: whoever may change it sets them anyway; a viewer never sees them.
        fields = super().get_fields(request, obj)
        if self.has_change_permission(request, obj) or (obj is None and self.has_add_permission(request)):
            return fields
        return [f for f in fields if f not in Probe.SECRET_FIELDS]

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in SETTINGS_FIELDS}
        component = obj.component if change else form.cleaned_data["component"]
        url = form.cleaned_data["url"] or None  # other kinds leave the component's URL alone
        saved = probe_configure(
            component=component,
            probe=obj if change else None,
            url=url,
            locations=form.cleaned_data.get("locations"),
            **fields,
        )
        if HOLD_FIELD in form.changed_data:
            saved = probe_hold(probe=saved, until=form.cleaned_data[HOLD_FIELD], actor=request.user)
        obj.pk, obj.component = saved.pk, saved.component

    def save_related(self, request, form, formsets, change):
        # The probe's locations were set by probe_configure (save_model); nothing else to save.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description="Probe at the next run", permissions=["change"])
    def probe_now(self, request, queryset):
        count = queryset.update(next_due_at=timezone.now())
        self.message_user(request, f"{count} probes will run at the next round.", messages.SUCCESS)


@admin.register(ProbeResult)
class ProbeResultAdmin(admin.ModelAdmin):
    list_display = ["probe", "checked_at", "ok", "slow", "status_code", "latency_ms", "error"]
    list_filter = ["ok", "slow"]
    list_select_related = ["probe__component"]
    search_fields = ["probe__component__name", "error"]
    date_hierarchy = None
    paginator = CheapPaginator  # a big table: no exact COUNT(*) of every row per page
    show_full_result_count = False
    readonly_fields = ["probe", "checked_at", "ok", "slow", "status_code", "latency_ms", "error"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# Heartbeat checks' and agents' admin live with them.
from healthchecks.agents import admin as agents_admin  # noqa: E402, F401
from healthchecks.pings import admin as pings_admin  # noqa: E402, F401
