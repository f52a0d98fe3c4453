from notifications.models import Channel
from notifications.services import channels_sync_from_settings

DEMO_EMAIL_KEY = "demo:email"


def seed_notifications() -> str:
    """The environment's channels (always a staff dashboard) and a demo e-mail channel."""
    lines = channels_sync_from_settings()
    _, created = Channel.objects.get_or_create(
        env_key=DEMO_EMAIL_KEY,
        defaults={
            "name": "On-call e-mail (demo)",
            "kind": Channel.Kind.EMAIL,
            "recipients": "oncall@example.com\nops-lead@example.com",
            "min_severity": "high",
        },
    )
    lines.append(f"On-call e-mail (demo): {'created' if created else 'already there'}")
    return "notifications: " + "; ".join(lines)
