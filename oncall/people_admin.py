"""People's contact methods and notification rules, and escalation policies, in the console.

Every staff user sees and edits only their own methods and rules. Whoever holds the change
permission on contact methods (superusers, Administrators) sees and edits everyone's. Saving
goes through oncall.people and oncall.policies, the API's path too."""

from django import forms
from django.contrib import admin, messages

from oncall.models import ContactMethod, EscalationPolicy, NotificationRule, PolicyStep
from oncall.people import (
    ContactMethodError,
    contact_method_check_code,
    contact_method_delete,
    contact_method_save,
    contact_method_send_code,
    notification_rule_delete,
    notification_rule_save,
)
from oncall.policies import StepSpec, policy_delete, policy_save


def manages_everyone(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm("oncall.change_contactmethod")


class OwnRowsAdmin(admin.ModelAdmin):
    """Rows that belong to a person: their own for everyone on the staff, all for a manager."""

    def get_queryset(self, request):
        rows = super().get_queryset(request).select_related("user")
        return rows if manages_everyone(request.user) else rows.filter(user=request.user)

    def _may(self, request, obj=None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return obj is None or manages_everyone(user) or obj.user_id == user.pk

    def has_module_permission(self, request):
        return self._may(request)

    def has_view_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_add_permission(self, request):
        return self._may(request)

    def has_change_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, obj)

    def get_exclude(self, request, obj=None):
        return [] if manages_everyone(request.user) else ["user"]


class ContactMethodForm(forms.ModelForm):
    code = forms.CharField(
        required=False, max_length=12, help_text="The code that was sent to this method, to verify it."
    )

    class Meta:
        model = ContactMethod
        fields = ["user", "kind", "address", "label"]


@admin.register(ContactMethod)
class ContactMethodAdmin(OwnRowsAdmin):
    form = ContactMethodForm
    list_display = ["__str__", "user", "label", "verified_at"]
    list_filter = ["kind", ("verified_at", admin.EmptyFieldListFilter)]
    search_fields = ["address", "label", "user__username"]
    readonly_fields = ["verified_at", "code_expires_at", "code_attempts"]
    actions = ["send_code"]

    def save_model(self, request, obj, form, change):
        if not manages_everyone(request.user) or not obj.user_id:
            obj.user = obj.user if obj.user_id else request.user
        try:
            contact_method_save(method=obj)
        except ContactMethodError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        code = form.cleaned_data.get("code")
        if code:
            try:
                contact_method_check_code(method=obj, code=code)
                self.message_user(request, f"{obj} is verified.", messages.SUCCESS)
            except ContactMethodError as exc:
                self.message_user(request, str(exc), messages.ERROR)

    def delete_model(self, request, obj):
        contact_method_delete(method=obj)

    def delete_queryset(self, request, queryset):
        for method in queryset:
            contact_method_delete(method=method)

    @admin.action(description="Send a verification code")
    def send_code(self, request, queryset):
        for method in queryset:
            try:
                contact_method_send_code(method=method)
                self.message_user(request, f"A code was sent to {method}.", messages.SUCCESS)
            except ContactMethodError as exc:
                self.message_user(request, f"{method}: {exc}", messages.ERROR)


@admin.register(NotificationRule)
class NotificationRuleAdmin(OwnRowsAdmin):
    list_display = ["user", "urgency", "delay_minutes", "contact_method"]
    list_filter = ["urgency"]
    list_select_related = ["user", "contact_method"]
    search_fields = ["user__username"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "contact_method" and not manages_everyone(request.user):
            kwargs["queryset"] = ContactMethod.objects.filter(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not obj.user_id:
            obj.user = request.user
        try:
            notification_rule_save(rule=obj)
        except ContactMethodError as exc:
            self.message_user(request, str(exc), messages.ERROR)

    def delete_model(self, request, obj):
        notification_rule_delete(rule=obj)

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            notification_rule_delete(rule=rule)


class PolicyStepFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.forms:
            row = getattr(form, "cleaned_data", None)
            if (
                row
                and not row.get("DELETE")
                and not (row.get("users") or row.get("schedules") or row.get("channels"))
            ):
                form.add_error(None, "A step notifies at least one user, schedule or channel.")


class PolicyStepInline(admin.StackedInline):
    model = PolicyStep
    formset = PolicyStepFormSet
    extra = 0
    fields = [("level", "escalate_after_minutes", "repeat"), "users", "schedules", "channels"]
    filter_horizontal = ["users", "schedules", "channels"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "repeat", "created_at"]
    search_fields = ["name", "description"]
    inlines = [PolicyStepInline]
    fieldsets = [
        (None, {"fields": ["name", "description", "repeat"]}),
        (
            "Weekly paging drill",
            {
                "fields": [("drill_weekday", "drill_time", "drill_time_zone")],
                "description": "A drill pages through this policy's real path and records who answered.",
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        pass  # written with its steps in save_related, in one service call

    def save_related(self, request, form, formsets, change):
        [steps] = [formset for formset in formsets if formset.model is PolicyStep]
        specs = [
            StepSpec(
                level=row["level"],
                escalate_after_minutes=row["escalate_after_minutes"],
                repeat=row["repeat"],
                users=list(row["users"]),
                schedules=list(row["schedules"]),
                channels=list(row["channels"]),
            )
            for row in (f.cleaned_data for f in steps.forms)
            if row and not row.get("DELETE", False)
        ]
        policy_save(policy=form.instance, steps=specs)
        steps.new_objects, steps.changed_objects, steps.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        policy_delete(policy=obj)

    def delete_queryset(self, request, queryset):
        for policy in queryset:
            policy_delete(policy=policy)
