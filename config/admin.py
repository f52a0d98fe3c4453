import json

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from config import api_keys
from config.api_keys_api import api_key_state
from config.mfa import services as mfa_services
from config.models import ApiKey, AuditEntry, OperationsConfig, SsoIdentity, WebAuthnCredential
from config.runtime_config import config_get

User = get_user_model()


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


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=list(api_keys.SCOPES.items()), widget=forms.CheckboxSelectMultiple, required=True
    )

    class Meta:
        model = ApiKey
        fields = ["name", "user", "scopes", "expires_at"]

    def clean_expires_at(self):
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("The expiry must be in the future.")
        return expires_at


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made here and revoked here; never edited (a key with other scopes is a new key)."""

    form = ApiKeyForm
    list_display = [
        *["name", "user", "prefix", "scope_list", "state"],
        *["expires_at", "last_used_at", "last_used_from"],
    ]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    actions = ["revoke"]
    readonly_fields = [
        "name",
        "user",
        "prefix",
        "scope_list",
        "state",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "last_used_from",
    ]

    def _manages_all(self, request) -> bool:
        return request.user.has_perm("config.change_apikey")

    def get_queryset(self, request):
        keys = super().get_queryset(request)
        return keys if self._manages_all(request) else keys.filter(user=request.user)

    # Every staff user makes and revokes their own keys; the role limits what a key can do.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (
            obj is None or obj.user_id == request.user.pk or self._manages_all(request)
        )

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return self.has_module_permission(request)

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj else ["name", "user", "scopes", "expires_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None and "user" in form.base_fields:
            users = form.base_fields["user"]
            users.initial = request.user.pk
            users.queryset = users.queryset.filter(is_staff=True, is_active=True)
            if not self._manages_all(request):
                users.queryset = users.queryset.filter(pk=request.user.pk)
        return form

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data  # the form checked what api_key_create would refuse
        key, raw = api_keys.api_key_create(
            user=data["user"], name=data["name"], scopes=data["scopes"], expires_at=data.get("expires_at")
        )
        obj.pk, obj._raw_key = key.pk, raw

    def response_add(self, request, obj, post_url_continue=None):
        key = ApiKey.objects.get(pk=obj.pk)
        context = {**self.admin_site.each_context(request), "key": key, "raw": obj._raw_key}
        return TemplateResponse(request, "admin/config/apikey_created.html", context)

    @admin.display(description="scopes")
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes)

    @admin.display(description="state")
    def state(self, key: ApiKey) -> str:
        return api_key_state(key)

    @admin.action(description="Revoke the selected keys", permissions=["revoke"])
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            api_keys.api_key_revoke(key=key)
        self.message_user(request, f"Revoked {len(keys)} key(s).", messages.SUCCESS)


class LegacyTokenAdmin(TokenAdmin):
    """DRF's tokens from before API keys: they carry every scope until deleted."""

    list_display = ["key", "user", "created", "scope_note"]

    @admin.display(description="scopes")
    def scope_note(self, token) -> str:
        return "every scope (legacy token)"


admin.site.unregister(TokenProxy)
admin.site.register(TokenProxy, LegacyTokenAdmin)


@admin.register(SsoIdentity)
class SsoIdentityAdmin(admin.ModelAdmin):
    """Who signs in through the identity provider as whom. Made by the first sign-in, never by
    hand; deleting a link (with the permission) makes that person's next sign-in a new user."""

    list_display = ["user", "subject", "issuer", "created_at", "last_sign_in_at"]
    list_filter = ["issuer", "last_sign_in_at"]
    search_fields = ["user__username", "user__email", "subject"]
    list_select_related = ["user"]
    fields = ["user", "issuer", "subject", "created_at", "last_sign_in_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# django-otp's own device pages would show a TOTP device's secret to whoever may view it; devices
# are managed on each user's Two-factor page, and reset from the user list below.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


class VigilUserAdmin(UserAdmin):
    """Django's user admin, plus whether each user signs in with two factors and the reset for
    someone who lost their devices."""

    list_display = [*UserAdmin.list_display, "two_factor"]
    actions = ["reset_two_factor"]

    def get_queryset(self, request):
        # One query for the list: whether each user has a confirmed TOTP device or a key.
        return (
            super()
            .get_queryset(request)
            .annotate(
                has_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
                has_key=Exists(WebAuthnCredential.objects.filter(user=OuterRef("pk"))),
            )
        )

    @admin.display(description="two-factor", boolean=True)
    def two_factor(self, user) -> bool:
        return bool(getattr(user, "has_totp", False) or getattr(user, "has_key", False))

    @admin.action(description="Reset two-factor sign-in (remove every device)", permissions=["change"])
    def reset_two_factor(self, request, queryset):
        count = mfa_services.devices_reset(users=list(queryset))
        self.message_user(
            request,
            f"Reset two-factor sign-in for {count} user(s); they sign in with a password and enrol again.",
            messages.SUCCESS,
        )


admin.site.unregister(User)
admin.site.register(User, VigilUserAdmin)
