import json

from django.contrib import admin, messages
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html

from core import outbound
from core.pagination import CheapPaginator
from notifications.models import (
    URL_RECIPIENT_KINDS,
    Channel,
    Delivery,
    DeliveryAttempt,
    Message,
    StaffNotification,
)
from notifications.services import (
    channel_delete,
    channel_save,
    channel_send_test,
    deliveries_retry_now,
    staff_notifications_mark_read,
)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "enabled", "min_severity", "target", "updated_at"]
    list_filter = ["kind", "enabled", "min_severity"]
    search_fields = ["name", "recipients", "url"]
    readonly_fields = ["env_key", "created_at", "updated_at"]
    actions = ["send_test_notification"]
    # A Slack URL's path and a webhook's signing secret are credentials: whoever may change a
    # channel sets them anyway; everyone else (Viewers, Operators) sees the host only.
    SECRET_FIELDS = ("url", "secret", "token", "request_headers")

    def _shows_secrets(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj) or (obj is None and self.has_add_permission(request))

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if self._shows_secrets(request, obj):
            return [f for f in fields if f != "url_shown"]
        return [f for f in fields if f not in self.SECRET_FIELDS]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if self._shows_secrets(request, obj) else [*fields, "url_shown"]

    def get_search_fields(self, request):
        # Searching the URL would let someone who cannot read it guess it a character at a time.
        if self._shows_secrets(request):
            return self.search_fields
        return [f for f in self.search_fields if f not in self.SECRET_FIELDS]

    def save_model(self, request, obj, form, change):
        channel_save(channel=obj)

    def delete_model(self, request, obj):
        channel_delete(channel=obj)

    @admin.display(description="URL")
    def url_shown(self, channel: Channel) -> str:
        return outbound.redact_url(channel.url) if channel.url else ""

    @admin.display(description="sends to")
    def target(self, channel: Channel) -> str:
        recipients = channel.recipient_list()
        if channel.kind == Channel.Kind.EMAIL:
            return ", ".join(recipients[:3]) + (f" (+{len(recipients) - 3})" if len(recipients) > 3 else "")
        if channel.kind == Channel.Kind.DASHBOARD:
            return "all staff (in-app)"
        if channel.kind in URL_RECIPIENT_KINDS:
            return ", ".join(outbound.redact_url(r) for r in recipients)
        return ", ".join(recipients)

    @admin.action(description="Send test notification", permissions=["change"])
    def send_test_notification(self, request, queryset):
        for channel in queryset:
            message = channel_send_test(channel=channel)
            url = reverse("admin:notifications_delivery_changelist") + f"?message__id__exact={message.pk}"
            self.message_user(
                request,
                format_html(
                    'Test notification queued for {}: <a href="{}">see its deliveries</a>.', channel, url
                ),
                messages.SUCCESS,
            )


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["subject", "kind", "severity", "created_at", "progress"]
    list_filter = ["severity", "kind"]
    search_fields = ["subject", "dedup_key"]
    readonly_fields = [
        "kind",
        "subject",
        "template",
        "context",
        "severity",
        "dedup_key",
        "created_at",
        "progress",
    ]
    date_hierarchy = "created_at"
    paginator = CheapPaginator
    show_full_result_count = False

    def get_queryset(self, request):
        # Served by the (message, status) index; one grouped count per changelist page.
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_sent=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.SENT)),
                n_pending=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.PENDING)),
                n_failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
            )
        )

    @admin.display(description="deliveries: sent / pending / failed")
    def progress(self, message: Message) -> str:
        url = reverse("admin:notifications_delivery_changelist") + f"?message__id__exact={message.pk}"
        return format_html(
            '<a href="{}">{} / {} / {}</a>',
            url,
            getattr(message, "n_sent", 0),
            getattr(message, "n_pending", 0),
            getattr(message, "n_failed", 0),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ["started_at", "outcome", "status_code", "duration_ms", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["started_at", "id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RecentMessageFilter(admin.SimpleListFilter):
    """By message, listing only the 20 newest (a filter over every message would not scale);
    any message is reachable with ?message__id__exact= from the message list."""

    title = "message"
    parameter_name = "message__id__exact"

    def lookups(self, request, model_admin):
        return [(str(m.pk), str(m)[:60]) for m in Message.objects.order_by("-id")[:20]]

    def queryset(self, request, queryset):
        return queryset.filter(message_id=self.value()) if self.value() else queryset


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "message",
        "kind",
        "channel",
        "recipient_shown",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_status_code",
        "last_error_short",
    ]
    list_filter = ["status", "kind", "channel", RecentMessageFilter]
    list_select_related = ["message", "channel"]
    # Exact only: a substring search on webhook URLs would let anyone guess their secret parts.
    search_fields = ["=recipient", "idempotency_key"]
    # The recipient and the per-recipient context as anyone may read them: a Slack or webhook URL
    # as its host, subscriber links (which act for the subscriber) without their token.
    fields = readonly_fields = [
        "message",
        "channel",
        "kind",
        "recipient_shown",
        "context_shown",
        "idempotency_key",
        "status",
        "attempts",
        "attempt_limit",
        "next_attempt_at",
        "give_up_at",
        "claim_token",
        "claimed_until",
        "sent_at",
        "last_status_code",
        "last_error",
        "created_at",
        "updated_at",
    ]
    inlines = [AttemptInline]
    actions = ["retry_now"]
    paginator = CheapPaginator
    show_full_result_count = False

    @admin.display(description="recipient")
    def recipient_shown(self, delivery: Delivery) -> str:
        return delivery.recipient_display()

    @admin.display(description="context")
    def context_shown(self, delivery: Delivery) -> str:
        return json.dumps(
            {
                key: outbound.redact_url(value) if isinstance(value, str) and "://" in value else value
                for key, value in delivery.context.items()
                # A subscriber's signing secret was shown to them once; staff never see it.
                if key != "signing_secret"
            },
            indent=1,
            cls=DjangoJSONEncoder,
        )

    @admin.display(description="last error")
    def last_error_short(self, delivery: Delivery) -> str:
        return delivery.last_error[:80]

    @admin.action(description="Retry now", permissions=["retry"])
    def retry_now(self, request, queryset):
        count = deliveries_retry_now(deliveries=queryset)
        skipped = queryset.count() - count
        text = f"{count} deliveries queued to retry now."
        if skipped:
            text += f" {skipped} skipped (already sent, or being sent right now)."
        self.message_user(request, text, messages.SUCCESS if count else messages.WARNING)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request) -> bool:
        # Deliveries are never edited, but resending them is a change only some roles may make.
        return request.user.has_perm("notifications.change_delivery")


class UnreadFilter(admin.SimpleListFilter):
    title = "read"
    parameter_name = "unread"

    def lookups(self, request, model_admin):
        return [("1", "Unread by me"), ("0", "Read by me")]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.exclude(reads__user=request.user)
        if self.value() == "0":
            return queryset.filter(reads__user=request.user)
        return queryset


@admin.register(StaffNotification)
class StaffNotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "severity", "count", "updated_at", "open_link"]
    list_filter = [UnreadFilter, "severity"]
    search_fields = ["title", "body"]
    readonly_fields = ["title", "body", "severity", "count", "link", "delivery", "created_at", "updated_at"]
    exclude = ["read_by", "dedup_key"]
    actions = ["mark_read"]
    paginator = CheapPaginator

    @admin.display(description="link")
    def open_link(self, notification: StaffNotification) -> str:
        return format_html('<a href="{}">open</a>', notification.link) if notification.link else ""

    @admin.action(description="Mark as read")
    def mark_read(self, request, queryset):
        count = staff_notifications_mark_read(user=request.user, notifications=queryset)
        self.message_user(request, f"{count} notifications marked as read.", messages.SUCCESS)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Opening a notification reads it.
        notification = self.get_object(request, object_id)
        if notification is not None:
            staff_notifications_mark_read(user=request.user, notifications=[notification])
        return super().change_view(request, object_id, form_url, extra_context)

    # The inbox is every staff member's, with or without model permissions.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
