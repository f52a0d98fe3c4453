"""The actions an alert's message offers (alerts.action_links carries them out)."""

from alerts.models import Alert

# name -> (button label, the statuses it is offered for)
ACTIONS = {
    "acknowledge": ("Acknowledge", (Alert.Status.FIRING,)),
    "resolve": ("Resolve", (Alert.Status.FIRING, Alert.Status.ACKNOWLEDGED)),
    "silence": ("Silence 1 h", (Alert.Status.FIRING, Alert.Status.ACKNOWLEDGED)),
}
PAST_TENSE = {"acknowledge": "acknowledged", "resolve": "resolved", "silence": "silenced for 1 hour"}


def alert_actions(alert: Alert) -> list[dict]:
    """The actions a message about `alert` offers, unsigned: the notifications renderer signs
    each for its recipient and appends the token to `path`."""
    return [
        {
            "name": name,
            "label": label,
            "path": f"/alerts/act/{alert.pk}/{name}/",
            "claims": {"alert": alert.pk, "action": name, "token": alert.escalation_token},
        }
        for name, (label, statuses) in ACTIONS.items()
        if alert.status in statuses
    ]
