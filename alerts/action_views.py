"""The page a signed action link opens: GET shows the alert and one button, POST acts.

GET never changes anything, because mail scanners and link previews open every link in a mail.
The POST is an ordinary form with Django's CSRF token (the GET sets the cookie), so a page
elsewhere cannot press the button for the recipient."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from alerts.action_links import ActionLinkError, alert_action_apply, check_link
from alerts.action_menu import ACTIONS, PAST_TENSE


def _page(request, template: str, context: dict, status: int = 200):
    response = render(
        request, f"alerts/{template}", {**context, "site_name": settings.SITE_NAME}, status=status
    )
    # The page holds a token in its URL and shows an alert: never kept by a shared cache, and
    # its URL never sent to another site. (Not "no-referrer": browsers then send "Origin: null"
    # with the form, and the CSRF origin check refuses the button.)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _refused(request, error: ActionLinkError):
    return _page(request, "action_refused.html", {"reason": error.message}, status=error.status)


def _actor_name(request, recipient: str) -> str:
    """Who pressed the button, when no one is logged in: the recipient the link was sent to."""
    if request.user.is_authenticated:
        return ""
    return f"{recipient} (e-mail link)" if recipient else "holder of a signed link"


@require_http_methods(["GET", "HEAD", "POST"])
def alert_action(request, alert_id: int, action: str, token: str):
    if action not in ACTIONS:
        return _refused(request, ActionLinkError(404, "There is no such action."))
    try:
        claims, alert = check_link(token, alert_id=alert_id, action=action)
        if request.method == "POST":
            user = request.user if request.user.is_authenticated else None
            alert = alert_action_apply(
                claims=claims, user=user, actor_name=_actor_name(request, claims.recipient)
            )
            return _page(request, "action_done.html", {"alert": alert, "done": PAST_TENSE[action]})
    except ActionLinkError as error:
        return _refused(request, error)
    context = {"alert": alert, "label": ACTIONS[action][0], "action": action, "recipient": claims.recipient}
    return _page(request, "action_confirm.html", context)
