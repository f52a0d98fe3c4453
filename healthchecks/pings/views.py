"""The ping endpoints jobs call: no login, no CSRF (curl and cron have neither), GET/POST/HEAD.

/ping/<uuid>[/start|/fail|/log|/<exit status>] and /ping/<project ping key>/<slug>[/...].
An unknown key answers the same short 404 whether or not a similar key exists."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.http import client_address
from healthchecks.pings.buffer import buffer_learn, buffer_ping
from healthchecks.pings.services import MAX_BODY_CHARACTERS, check_ping, ping_kind

PING_METHODS = ["GET", "POST", "HEAD"]


def _answer(text: str, status: int) -> HttpResponse:
    return HttpResponse(f"{text}\n", status=status, content_type="text/plain; charset=utf-8")


def _body(request: HttpRequest) -> str:
    # Read no more than what is kept: a job posting its whole log costs one bounded read.
    raw = request.read(MAX_BODY_CHARACTERS * 4) if request.method == "POST" else b""
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")[:MAX_BODY_CHARACTERS]


def _ping(request: HttpRequest, action: str, **check) -> HttpResponse:
    try:
        kind, exit_status = ping_kind(action)
    except ValueError:
        return _answer("unknown ping: use /start, /fail, /log or an exit status 0-255", 400)
    body = _body(request)
    sender = {
        "method": request.method,
        "remote_addr": client_address(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", ""),
    }
    # A ping with a body (a job's log) is kept whole by the database path, not the buffer.
    by_key = check.get("ping_key")
    if (
        by_key is not None
        and not body
        and buffer_ping(ping_key=by_key, kind=kind, exit_status=exit_status, **sender)
    ):
        return _answer("OK", 200)
    ping = check_ping(**check, kind=kind, exit_status=exit_status, body=body, **sender)
    if ping is None:
        return _answer("not found", 404)
    if by_key is not None:
        buffer_learn([by_key])
    return _answer("OK", 200)


@csrf_exempt
@require_http_methods(PING_METHODS)
def ping_by_key(request: HttpRequest, key, action: str = "") -> HttpResponse:
    return _ping(request, action, ping_key=key)


@csrf_exempt
@require_http_methods(PING_METHODS)
def ping_by_slug(request: HttpRequest, project_key: str, slug: str, action: str = "") -> HttpResponse:
    return _ping(request, action, project_key=project_key, slug=slug)
