"""Schedules in the operations console: layers and overrides edited on the schedule's page, the
next 14 days shown as shift blocks with every gap flagged, and the calendar feeds.

Saving goes through oncall.services (the API's path too): the forms check the input, the service
writes the schedule, its layers and its overrides in one transaction."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.utils import timezone

from oncall.models import CalendarFeed, RotationLayer, Schedule, ScheduleOverride
from oncall.queries import schedule_timelines, user_names
from oncall.resolver import gaps
from oncall.services import (
    NO_MEMBERS,
    LayerSpec,
    OverrideSpec,
    calendar_feed_issue,
    calendar_feed_revoke,
    schedule_delete,
    schedule_save,
)
from oncall.views import calendar_urls

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
PREVIEW_DAYS = 14


class LayerForm(forms.ModelForm):
    people = forms.CharField(
        label="People",
        help_text="Usernames in rotation order, separated by commas.",
        error_messages={"required": NO_MEMBERS},
    )
    restrict_weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Covered days",
        help_text="None ticked: every day.",
    )

    class Meta:
        model = RotationLayer
        fields = list(RotationLayer.SETTINGS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["people"] = ", ".join(m.user.get_username() for m in self.instance.memberships.all())

    def clean_people(self) -> list:
        names = [name.strip() for name in self.cleaned_data["people"].split(",") if name.strip()]
        if not names:
            raise forms.ValidationError(NO_MEMBERS)
        found = {
            u.get_username(): u for u in get_user_model().objects.filter(username__in=names, is_active=True)
        }
        unknown = [name for name in names if name not in found]
        if unknown:
            raise forms.ValidationError(f"No active user named {', '.join(unknown)}.")
        return [found[name] for name in names]


class LayerInline(admin.StackedInline):
    model = RotationLayer
    form = LayerForm
    extra = 0
    fields = [
        ("name", "level"),
        "people",
        ("rotation", "shift_hours"),
        ("starts_on", "handoff_time"),
        "restrict_weekdays",
        ("restrict_from", "restrict_to"),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("memberships__user")


class OverrideInline(admin.TabularInline):
    model = ScheduleOverride
    extra = 0
    fields = ["user", "starts_at", "ends_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


def _rows(forms_: list[forms.Form]) -> list[dict]:
    return [
        form.cleaned_data
        for form in forms_
        if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
    ]


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "updated_at"]
    search_fields = ["name", "description"]
    inlines = [LayerInline, OverrideInline]
    fields = ["name", "description", "time_zone", "next_fourteen_days"]
    readonly_fields = ["next_fourteen_days"]

    @admin.display(description=f"Next {PREVIEW_DAYS} days")
    def next_fourteen_days(self, schedule: Schedule) -> str:
        if not schedule.pk:
            return "Shown once the schedule is saved."
        start = timezone.now().replace(minute=0, second=0, microsecond=0)
        shifts = schedule_timelines([schedule], start=start, end=start + timedelta(days=PREVIEW_DAYS))[
            schedule.pk
        ]
        names = user_names(shift.user_id for shift in shifts)
        blocks = [
            {
                "starts": shift.starts_at,
                "ends": shift.ends_at,
                "hours": round(shift.hours, 1),
                "who": names.get(shift.user_id) if shift.user_id is not None else None,
            }
            for shift in shifts
        ]
        missing = gaps(shifts)
        return render_to_string(
            "admin/oncall/next_days.html",
            {
                "blocks": blocks,
                "gap_count": len(missing),
                "gap_hours": round(sum(shift.hours for shift in missing), 1),
                "zone": schedule.time_zone,
            },
        )

    def save_model(self, request, obj, form, change):
        # Written with its layers and overrides in save_related, in one service call.
        pass

    def save_related(self, request, form, formsets, change):
        by_model = {formset.model: formset for formset in formsets}
        layers = [
            LayerSpec(
                **{name: row[name] for name in LayerSpec.__dataclass_fields__ if name not in ("members",)},
                members=row["people"],
            )
            for row in _rows(by_model[RotationLayer].forms)
        ]
        overrides = [
            OverrideSpec(user=row["user"], starts_at=row["starts_at"], ends_at=row["ends_at"])
            for row in _rows(by_model[ScheduleOverride].forms)
        ]
        # The forms ran the same model rules the service runs, so it accepts what they passed.
        schedule_save(schedule=form.instance, layers=layers, overrides=overrides)
        for formset in formsets:
            # What the admin's change message reads after a formset's own save.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        schedule_delete(schedule=obj)

    def delete_queryset(self, request, queryset):
        for schedule in queryset:
            schedule_delete(schedule=schedule)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Who has a secret calendar URL. A new URL is shown once, here, when it is issued."""

    list_display = ["user", "issued_at"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    fields = ["user", "issued_at"]
    readonly_fields = ["issued_at"]
    actions = ["issue_new_url", "revoke"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "issued_at"] if obj else ["issued_at"]

    def save_model(self, request, obj, form, change):
        self._issue(request, obj.user)
        obj.pk = CalendarFeed.objects.get(user=obj.user).pk

    def delete_model(self, request, obj):
        calendar_feed_revoke(user=obj.user)

    def delete_queryset(self, request, queryset):
        for feed in queryset.select_related("user"):
            calendar_feed_revoke(user=feed.user)

    def _issue(self, request, user) -> None:
        urls = calendar_urls(request, calendar_feed_issue(user=user))
        self.message_user(
            request,
            f"Calendar URL of {user.get_username()} (shown only now; the old one no longer works): "
            f"{urls['url']} — one schedule: {urls['schedule_url_template']}",
            messages.SUCCESS,
        )

    @admin.action(description="Issue a new URL (the old one stops working)", permissions=["change"])
    def issue_new_url(self, request, queryset):
        for feed in queryset.select_related("user"):
            self._issue(request, feed.user)

    @admin.action(description="Revoke the URL", permissions=["delete"])
    def revoke(self, request, queryset):
        self.delete_queryset(request, queryset)
        self.message_user(request, "Revoked.", messages.SUCCESS)


from oncall import people_admin  # noqa: E402, F401  (registers people's and policies' pages)
