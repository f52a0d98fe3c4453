"""Subscribers in the operations console: filters with counts, CSV export, manual unsubscribe.

Delivery progress (sent / pending / failed per message) is the notifications admin's Message
list; the changelist links there instead of counting deliveries a second time."""

import csv
from collections.abc import Iterator

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from core.outbound import redact_url
from subscribers import services as service
from subscribers.models import URL_KINDS, Subscriber, SubscriberStatus


class _Echo:
    """A file-like object whose write returns the line, for csv.writer into a stream."""

    def write(self, value: str) -> str:
        return value


def subscriber_csv_rows(queryset) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(["email", "status", "components", "created_at", "confirmed_at", "unsubscribed_at"])
    # Streamed in chunks: exporting 100,000 rows never holds them all in memory. Component names
    # are read once, not once per row.
    through = Subscriber.components.through.objects.filter(subscriber__in=queryset.values("pk"))
    names: dict[int, list[str]] = {}
    for subscriber_id, name in through.values_list("subscriber_id", "component__name").iterator(
        chunk_size=5000
    ):
        names.setdefault(subscriber_id, []).append(name)
    rows = queryset.order_by("pk").values_list(
        "pk", "email", "status", "created_at", "confirmed_at", "unsubscribed_at"
    )
    for pk, email, status, created, confirmed, unsubscribed in rows.iterator(chunk_size=2000):
        # A leading =, +, - or @ would make a spreadsheet run the cell as a formula.
        safe_email = f"'{email}" if email[:1] in "=+-@" else email
        yield writer.writerow(
            [
                safe_email,
                status,
                "; ".join(sorted(names.get(pk, []))) or "all",
                created.isoformat() if created else "",
                confirmed.isoformat() if confirmed else "",
                unsubscribed.isoformat() if unsubscribed else "",
            ]
        )


class UrlSubscriberAddForm(forms.ModelForm):
    """Staff add webhook, Slack and Teams subscribers (never e-mail ones: those opt in)."""

    kind = forms.ChoiceField(choices=[(kind.value, kind.label) for kind in URL_KINDS])
    url = forms.CharField(max_length=1000, label="URL")

    class Meta:
        model = Subscriber
        fields = ["kind", "url", "components"]

    def clean(self):
        data = super().clean()
        if "kind" in data and "url" in data:
            try:
                data["kind"], data["url"] = service.normalise_url(kind=data["kind"], url=data["url"])
            except service.SubscriberError as exc:
                self.add_error("url", str(exc))
        return data

    def validate_unique(self):
        # The service re-uses an existing row for the URL (pending or unsubscribed: again).
        pass


class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "status", "components_shown", "created_at", "confirmed_at"]
    list_filter = ["kind", "status", "language", "components", "created_at", "confirmed_at"]
    show_facets = admin.ShowFacets.ALWAYS  # counts next to every filter choice
    search_fields = ["email", "=url"]
    date_hierarchy = "created_at"
    filter_horizontal = ["components"]
    fields = [
        "email",
        "status",
        "components",
        "created_at",
        "confirm_sent_at",
        "confirmed_at",
        "unsubscribed_at",
        "language",
    ]
    readonly_fields = [
        "kind",
        "email",
        "url_shown",
        "status",
        "verify_error",
        "created_at",
        "confirm_sent_at",
        "confirmed_at",
        "unsubscribed_at",
        "language",
    ]
    actions = ["export_csv", "unsubscribe_selected"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["kind", "url", "components"]
        if obj.kind in URL_KINDS:
            return ["kind", "url_shown", "status", "verify_error", "components", *self.fields[3:]]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = UrlSubscriberAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(description="URL")
    def url_shown(self, subscriber: Subscriber) -> str:
        # Slack and Teams URLs carry their credential in the path: the host only.
        return redact_url(subscriber.url) if subscriber.url else ""

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        result = service.subscriber_subscribe_url(
            kind=form.cleaned_data["kind"],
            url=form.cleaned_data["url"],
            components=form.cleaned_data["components"],
        )
        for field in Subscriber._meta.concrete_fields:
            setattr(obj, field.attname, getattr(result.subscriber, field.attname))
        obj._state.adding, obj._state.db = False, result.subscriber._state.db
        request._url_subscribe_result = result
        return None

    def response_add(self, request, obj, post_url_continue=None):
        result = getattr(request, "_url_subscribe_result", None)
        if result is not None and result.outcome == "pending":
            self.message_user(request, f"{obj} is pending: {result.error}", messages.WARNING)
        elif result is not None and result.outcome == "already_subscribed":
            self.message_user(request, f"{obj} was already subscribed; nothing changed.", messages.INFO)
        elif result is not None and result.secret:
            self.message_user(
                request,
                f"{obj} is confirmed. Its signing secret, shown only now: {result.secret}",
                messages.SUCCESS,
            )
        return super().response_add(request, obj, post_url_continue)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("components")

    @admin.display(description="components")
    def components_shown(self, subscriber: Subscriber) -> str:
        return ", ".join(c.name for c in subscriber.components.all()) or "all"

    def changelist_view(self, request, extra_context=None):
        counts = dict(
            Subscriber.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        messages = reverse("admin:notifications_message_changelist")
        extra_context = {
            **(extra_context or {}),
            "status_counts": [(label, counts.get(value, 0)) for value, label in SubscriberStatus.choices],
            "incident_mail_url": f"{messages}?kind__startswith=incident.",
            "maintenance_mail_url": f"{messages}?kind__startswith=maintenance.",
        }
        return super().changelist_view(request, extra_context=extra_context)

    @admin.action(description="Export the selected subscribers as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        response = StreamingHttpResponse(subscriber_csv_rows(queryset), content_type="text/csv")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="subscribers-{stamp}.csv"'
        return response

    @admin.action(description="Unsubscribe the selected subscribers", permissions=["change"])
    def unsubscribe_selected(self, request, queryset):
        selected = list(queryset)
        changed = sum(service.subscriber_unsubscribe(subscriber=subscriber) for subscriber in selected)
        self.message_user(request, f"{changed} unsubscribed ({len(selected) - changed} already were).")


admin.site.register(Subscriber, SubscriberAdmin)
