"""Small readers for environment variables that fail loudly, naming the variable.

django-environ parses URLs (database, cache, e-mail); these wrappers turn every parse
error into an ImproperlyConfigured that says which variable is wrong and why, so a bad
deployment stops at start-up instead of misbehaving at 3 a.m.
"""

import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import environ
from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")
_parser = environ.Env()

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def is_set(name: str) -> bool:
    return raw(name) is not None


def env_str(name: str, default: str = "") -> str:
    value = raw(name)
    return default if value is None else value


def env_required(name: str, why: str) -> str:
    value = raw(name)
    if value is None:
        raise ImproperlyConfigured(f"{name} must be set: {why}")
    return value


def env_bool(name: str, default: bool) -> bool:
    value = raw(name)
    if value is None:
        return default
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}")


def _number(name: str, default: T, cast: Callable[[str], T], kind: str, minimum, maximum) -> T:
    value = raw(name)
    if value is None:
        return default
    try:
        number = cast(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {kind}; got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value!r}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}; got {value!r}")
    return number


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    return _number(name, default, int, "a whole number", minimum, maximum)


def env_float(
    name: str, default: float, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    return _number(name, default, float, "a number", minimum, maximum)


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = raw(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_header_value(name: str, default: str) -> str:
    """A value sent as an HTTP header (a policy): one line of printable ASCII."""
    value = raw(name) or default
    if any(not 32 <= ord(ch) < 127 for ch in value):
        raise ImproperlyConfigured(f"{name} must be one line of printable ASCII; got {value!r}")
    return value


def env_networks(name: str) -> list[str]:
    """Comma-separated IP addresses or networks (10.0.0.0/8, ::1)."""
    import ipaddress

    networks = env_list(name)
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or networks (a.b.c.d/n); got {network!r}"
            ) from None
    return networks


def env_url(name: str, default: str, *, schemes: tuple[str, ...]) -> str:
    value = raw(name) or default
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name} must be a URL starting with one of {', '.join(schemes)}; got {value!r}"
        )
    return value


def env_database(name: str, default: dict) -> dict:
    value = raw(name)
    if value is None:
        return default
    try:
        config = _parser.db_url_config(value)
    except Exception as exc:  # django-environ raises several kinds for a bad URL
        raise ImproperlyConfigured(f"{name} is not a valid database URL ({exc})") from None
    if config.get("ENGINE") not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
        raise ImproperlyConfigured(f"{name} must be a postgres:// or sqlite:// URL; got {value!r}")
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} must name a database; got {value!r}")
    return config


SMTP_BACKEND = "notifications.smtp.PipeliningEmailBackend"


def env_email(name: str, default: str) -> dict:
    value = raw(name) or default
    try:
        config = _parser.email_url_config(value)
    except Exception as exc:
        raise ImproperlyConfigured(f"{name} is not a valid e-mail URL ({exc})") from None
    if config["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
        config["EMAIL_FILE_PATH"] = _mail_folder(name, value)
    if config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend":
        # The same backend, pipelining the envelope where the server offers it.
        config["EMAIL_BACKEND"] = SMTP_BACKEND
    return config


def _mail_folder(name: str, value: str) -> str:
    """The folder of filemail:///var/mail/vigil. django-environ drops the path's leading slash,
    and Django's file backend only fails when the first mail is sent: both are checked here."""
    from pathlib import Path
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(value)
    folder = Path(unquote(parts.path))
    if parts.netloc or not folder.is_absolute() or folder == Path("/"):
        raise ImproperlyConfigured(
            f"{name} must name an absolute folder for the mail files, e.g. filemail:///var/mail/vigil; "
            f"got {value!r}"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(f"{name}: the mail folder {folder} cannot be created ({exc})") from None
    return str(folder)


def env_matching(name: str, pattern: "re.Pattern[str]", what: str) -> str:
    """A key or an identifier of a documented shape, or "" when unset. The error names the
    variable and the shape but never repeats the value: it may be a credential."""
    value = raw(name)
    if value is None:
        return ""
    if not pattern.fullmatch(value):
        raise ImproperlyConfigured(f"{name} must be {what} (the value set has {len(value)} characters)")
    return value


def generated_secret_key(key_file: Path) -> str:
    """The key kept in `key_file`, generated there the first time.

    Several processes (web workers, the worker, beat) may start at once on a new data folder. The
    key is written to a private file of this process and linked into place, which fails if another
    process got there first; then that process's key is used. Nobody reads a half-written key, and
    no two processes sign with different keys."""
    if key_file.exists():
        return key_file.read_text().strip()
    draft = key_file.with_name(f".{key_file.name}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
    try:
        os.link(draft, key_file)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return key_file.read_text().strip()


def env_role_map(name: str, roles: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """ "idp-group=Role,other-group=Role": the roles each identity-provider group grants. A group
    may be named twice to grant two roles; a role not in `roles` stops the start (a typo would
    otherwise leave everyone in that group without access, silently)."""
    mapping: dict[str, list[str]] = {}
    for item in env_list(name):
        group, sep, role = (part.strip() for part in item.rpartition("="))
        if not sep or not group or not role:
            raise ImproperlyConfigured(f"{name} must list group=Role pairs separated by commas; got {item!r}")
        if role not in roles:
            raise ImproperlyConfigured(f"{name}: {role!r} is not a role; the roles are {', '.join(roles)}")
        mapping.setdefault(group, [])
        if role not in mapping[group]:
            mapping[group].append(role)
    return {group: tuple(granted) for group, granted in mapping.items()}


def env_oidc_issuer(name: str, value: str) -> str:
    """An OpenID Connect issuer: https, or http on a loopback host only (a provider on the same
    machine, for trying it out), because the client secret and the tokens travel to it. No query
    or fragment: the discovery document is found by appending a path (OpenID Connect Discovery)."""
    import ipaddress
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number in range)
    except ValueError:
        raise ImproperlyConfigured(f"{name} is not a valid URL; got {value!r}") from None
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if (
        not host
        or parts.query
        or parts.fragment
        or not (parts.scheme == "https" or (parts.scheme == "http" and loopback))
    ):
        raise ImproperlyConfigured(
            f"{name} must be an https:// URL without a query (http:// only on a loopback host); got {value!r}"
        )
    return value
