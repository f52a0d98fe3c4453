"""Subscribers in the operations console: filters with counts, CSV export, manual unsubscribe.

Delivery progress (sent / pending / failed per message) is the notifications admin's Message
list; the changelist links there instead of counting deliveries a second time."""

import csv
from collections.abc import Iterator

from django.contrib import admin
from django.db.models import Count
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from subscribers import services as service
from subscribers.models import Subscriber, SubscriberStatus


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


class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "status", "components_shown", "created_at", "confirmed_at", "unsubscribed_at"]
    list_filter = ["status", "components", "created_at", "confirmed_at"]
    show_facets = admin.ShowFacets.ALWAYS  # counts next to every filter choice
    search_fields = ["email"]
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
    ]
    readonly_fields = ["email", "status", "created_at", "confirm_sent_at", "confirmed_at", "unsubscribed_at"]
    actions = ["export_csv", "unsubscribe_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("components")

    @admin.display(description="components")
    def components_shown(self, subscriber: Subscriber) -> str:
        return ", ".join(c.name for c in subscriber.components.all()) or "all"

    def has_add_permission(self, request):
        # A subscriber must opt in themselves (double opt-in); staff cannot add one.
        return False

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
