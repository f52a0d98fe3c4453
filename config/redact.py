"""Secrets never reach the logs: a logging filter on every handler Vigil configures (Django's,
gunicorn's access log, Celery's), rewriting each record's message and traceback.

It takes out what the code cannot keep from being quoted: subscriber tokens in request paths
("Bad Request: /api/status/manage/<token>"), API tokens and Authorization values, passwords in
URLs (user:password@), token-like query parameters, Slack, Discord and Teams webhook paths,
Telegram bot tokens, Slack tokens, and the literal values of the secrets in the settings (SECRET_KEY, the
e-mail and database passwords, METRICS_TOKEN, WEBHOOK_SECRET, SLACK_WEBHOOK_URL,
TWILIO_AUTH_TOKEN, OIDC_CLIENT_SECRET).
"""

import contextlib
import logging
import re
from urllib.parse import urlsplit

HIDDEN = "…"
# (pattern, replacement, triggers): a pattern is tried only on text holding one of its triggers,
# strings without which it cannot match. Most lines (an access log's) hold none, and a substring
# test costs a fraction of a regular-expression search.
PATTERNS = [
    # The secret in a subscriber link is the last path segment.
    (
        re.compile(r"(/api/status/(?:confirm|unsubscribe|manage)/)[^/\s?#\"']+"),
        rf"\g<1>{HIDDEN}",
        ("/api/status/",),
    ),
    # Authorization values (the schemes as HTTP writes them, so ordinary words are left alone).
    (
        re.compile(r"\b((?:Token|Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]{16,}"),
        rf"\g<1>{HIDDEN}",
        ("Token", "Bearer", "Basic"),
    ),
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/\s:@\"']*:[^/\s@\"']*@"), rf"\g<1>{HIDDEN}@", ("://",)),
    (
        re.compile(
            r"(?i)([?&;](?:token|key|api_?key|secret|password|passwd|pwd|sig|signature|auth|access_token|code)=)"
            r"[^&;\s\"'#]+"
        ),
        rf"\g<1>{HIDDEN}",
        ("=",),
    ),
    (re.compile(r"(hooks\.slack\.com/services/)[^\s\"'?#]+"), rf"\g<1>{HIDDEN}", ("hooks.slack.com/",)),
    # Chat webhooks carry their credential in the path as well.
    (
        re.compile(r"(discord(?:app)?\.com/api/webhooks/)[^\s\"'?#]+"),
        rf"\g<1>{HIDDEN}",
        ("/api/webhooks/",),
    ),
    # A Teams connector URL (Workflows URLs carry theirs in sig=, taken out above).
    (re.compile(r"(\.webhook\.office\.com/)[^\s\"'?#]+"), rf"\g<1>{HIDDEN}", (".webhook.office.com/",)),
    # A Slack bot, user or app token (xoxb-, xoxp-, xapp-…).
    (re.compile(r"\b(xox[abpr]-|xapp-)[0-9A-Za-z-]{10,}"), rf"\g<1>{HIDDEN}", ("xox", "xapp-")),
    # A Telegram bot token, in a Bot API path (/bot<token>/sendMessage) or on its own.
    (re.compile(r"(?<![0-9])([0-9]{5,}:)[A-Za-z0-9_-]{30,}"), rf"\g<1>{HIDDEN}", (":",)),
]


_literal: tuple[str, ...] | None = None


def _literal_secrets() -> tuple[str, ...]:
    """The secrets in the settings, longest first, once this process has loaded its settings.
    Never loads them itself: gunicorn's master logs before any worker is forked, and settings
    read there would be evaluated before gevent patches the workers' sockets, so the workers
    would inherit the settings of a process without greenlets (no connection pool)."""
    from django.conf import settings

    global _literal
    if not settings.configured:
        return ()
    if _literal is None:
        try:
            _literal = _read_literal_secrets()
        except Exception:  # settings not configured yet
            return ()
    return _literal


def _read_literal_secrets() -> tuple[str, ...]:
    from django.conf import settings

    values = [
        settings.SECRET_KEY,
        getattr(settings, "EMAIL_HOST_PASSWORD", ""),
        getattr(settings, "METRICS_TOKEN", ""),
        getattr(settings, "WEBHOOK_SECRET", ""),
        getattr(settings, "SLACK_WEBHOOK_URL", ""),
        getattr(settings, "TWILIO_AUTH_TOKEN", ""),
        getattr(settings, "OIDC_CLIENT_SECRET", ""),
        settings.DATABASES.get("default", {}).get("PASSWORD", ""),
    ]
    for url in (getattr(settings, "REDIS_URL", ""), getattr(settings, "CELERY_BROKER_URL", "")):
        with contextlib.suppress(ValueError):
            values.append(urlsplit(url).password or "")
    # Short values would blank out ordinary words; real secrets are long.
    return tuple(sorted({v for v in values if v and len(v) >= 8}, key=len, reverse=True))


def redact(text: str) -> str:
    for secret in _literal_secrets():
        text = text.replace(secret, HIDDEN)
    for pattern, replacement, triggers in PATTERNS:
        if any(trigger in text for trigger in triggers):
            text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave the record to the handler's own error
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
