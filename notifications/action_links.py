"""Signed action links in messages, made per recipient at render time.

A producer that wants its message to carry actions (an alert: acknowledge, resolve, silence)
lists them in an item of its context, under "actions":

    {"alerts": [{"title": ..., "actions": [
        {"name": "acknowledge", "label": "Acknowledge", "path": "/alerts/act/7/acknowledge/",
         "claims": {"alert": 7, "action": "acknowledge", "token": 3}}]}]}

The message's context is shared by all its recipients, so the links cannot be made when it is
written. Each recipient's copy gets them here instead: the claims signed (core.signed_links),
with the recipient's address added when it is a person's (an e-mail), as `token` and as `url`
(PUBLIC_URL + path + token). The producer's own view reads and checks them; this module knows
nothing of what an action does.
"""

from django.conf import settings

from core import signed_links


def _signed(action: object, recipient: str) -> dict | None:
    if not isinstance(action, dict) or not isinstance(action.get("claims"), dict):
        return None
    path, name = action.get("path"), action.get("name")
    if not (isinstance(path, str) and path.startswith("/") and isinstance(name, str)):
        return None
    claims = {**action["claims"], **({signed_links.RECIPIENT: recipient} if recipient else {})}
    token = signed_links.sign(claims)
    return {
        "name": name,
        "label": str(action.get("label") or name),
        "token": token,
        "url": f"{settings.PUBLIC_URL}{path}{token}",
    }


def _with_links(item: object, recipient: str) -> object:
    if not isinstance(item, dict) or not isinstance(item.get("actions"), list):
        return item
    links = [_signed(action, recipient) for action in item["actions"]]
    return {**item, "actions": [link for link in links if link is not None]}


def with_action_links(context: dict, recipient: str = "") -> dict:
    """The context with every item's actions (in any top-level list) as signed links."""
    return {
        key: [_with_links(item, recipient) for item in value] if isinstance(value, list) else value
        for key, value in context.items()
    }
