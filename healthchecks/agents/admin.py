from django import forms
from django.contrib import admin, messages

from healthchecks.agents import services
from healthchecks.agents.models import AgentKey, ComponentQuorum, ProbeLocation


@admin.register(ProbeLocation)
class ProbeLocationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "last_result_at", "is_silent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "last_result_at", "is_silent"]

    def save_model(self, request, obj, form, change):
        try:
            if change:
                services.location_update(location=obj, name=obj.name, slug=obj.slug)
            else:
                obj.pk = services.location_create(name=obj.name, slug=obj.slug).pk
        except services.AgentError as exc:
            raise forms.ValidationError(str(exc)) from exc


class AgentKeyForm(forms.ModelForm):
    class Meta:
        model = AgentKey
        fields = ["location", "name"]


@admin.register(AgentKey)
class AgentKeyAdmin(admin.ModelAdmin):
    form = AgentKeyForm
    list_display = [
        "location",
        "prefix",
        "name",
        "created_at",
        "revoked_at",
        "last_seen_at",
        "last_seen_address",
    ]
    list_filter = ["location"]
    list_select_related = ["location"]
    search_fields = ["name", "prefix", "location__name"]
    readonly_fields = [
        "prefix",
        "created_at",
        "created_by",
        "revoked_at",
        "last_seen_at",
        "last_seen_address",
    ]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "location"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            AgentKey.objects.filter(pk=obj.pk).update(name=form.cleaned_data["name"])
            return
        key, secret = services.agent_key_create(
            location=form.cleaned_data["location"], name=form.cleaned_data["name"], actor=request.user
        )
        obj.pk = key.pk
        self.message_user(
            request,
            f"The agent key (shown this once only; only its digest is kept): {secret}",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        for key in queryset:
            services.agent_key_revoke(key=key)
        self.message_user(request, f"{queryset.count()} keys revoked.", messages.SUCCESS)


@admin.register(ComponentQuorum)
class ComponentQuorumAdmin(admin.ModelAdmin):
    list_display = ["component", "locations_required"]
    list_select_related = ["component"]

    def save_model(self, request, obj, form, change):
        saved = services.quorum_set(component=obj.component, locations_required=obj.locations_required)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.quorum_clear(component=obj.component)

    def delete_queryset(self, request, queryset):
        for quorum in queryset:
            services.quorum_clear(component=quorum.component)
