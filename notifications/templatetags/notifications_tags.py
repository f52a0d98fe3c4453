from django import template

from notifications.services import staff_notifications_unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def staff_unread_notifications(context) -> int:
    """Unread in-app notifications for the admin header (one COUNT per admin page)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return staff_notifications_unread_count(user=user) if user is not None else 0
