"""The console's paging drills: start one for a policy, then follow its pages and its answer."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from alerts.drills import DrillError, drill_answer, drill_hops, drill_start
from alerts.models import PagingDrill


class StartDrillForm(forms.ModelForm):
    class Meta:
        model = PagingDrill
        fields = ["policy"]

    def clean_policy(self):
        policy = self.cleaned_data["policy"]
        if not policy.steps.exists():
            raise forms.ValidationError("This policy has no steps: a drill would page nobody.")
        return policy


@admin.register(PagingDrill)
class PagingDrillAdmin(admin.ModelAdmin):
    list_display = ["policy", "started_at", "started_by", "outcome", "acknowledged_by", "answered_after"]
    list_filter = ["outcome", "policy"]
    list_select_related = ["policy", "started_by", "acknowledged_by", "alert"]
    readonly_fields = [
        "policy",
        "alert",
        "started_by",
        "scheduled_for",
        "started_at",
        "answer_by",
        "outcome",
        "acknowledged_at",
        "acknowledged_by",
        "settled_at",
        "missed_alert",
        "answer",
        "hops",
    ]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = StartDrillForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["policy"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False  # a drill is a record: started here, closed by the drill job

    def save_model(self, request, obj, form, change):
        try:
            started = drill_start(policy=form.cleaned_data["policy"], user=request.user)
        except DrillError as exc:  # the policy lost its steps since the form was checked
            messages.error(request, str(exc))
            return
        obj.pk = started.pk
        messages.info(
            request,
            f"Drill started: its first page is on its way. Unacknowledged by {started.answer_by:%H:%M} UTC, "
            "it counts as missed and raises an alert.",
        )

    def log_addition(self, request, obj, message):
        if obj.pk is not None:
            super().log_addition(request, PagingDrill.objects.get(pk=obj.pk), message)

    @admin.display(description="answered after")
    def answered_after(self, drill):
        if drill.acknowledged_at is None:
            return "—"
        return f"{(drill.acknowledged_at - drill.started_at).total_seconds() / 60:.1f} min"

    @admin.display(description="answer")
    def answer(self, drill):
        found = drill_answer(drill)
        if found is None:
            return "—"
        how = found["via"] or "the console"
        return f"{found['by'] or 'someone'} at {found['at']:%Y-%m-%d %H:%M:%S} UTC via {how}"

    @admin.display(description="pages (hops)")
    def hops(self, drill):
        rows = drill_hops(drill)
        if not rows:
            return "No page sent yet."
        return format_html(
            "<table><tr><th>To</th><th>How</th><th>Enqueued</th><th>Provider accepted</th>"
            "<th>Status</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{} {}</td></tr>",
                (
                    (
                        hop["person"] or hop["channel"] or "",
                        hop["kind"],
                        hop["recipient"],
                        f"{hop['enqueued_at']:%H:%M:%S}",
                        f"{hop['accepted_at']:%H:%M:%S}" if hop["accepted_at"] else "—",
                        hop["status"],
                        hop["error"][:200],
                    )
                    for hop in rows
                ),
            ),
        )
