"""The one rule for URLs Vigil sends requests to: Slack and webhook channels, and component
probes (healthchecks). Forms, serializers and the channels made from the environment validate
with validate_webhook_url / validate_probe_url; the senders check the address again just before
connecting (check_destination), because a name may resolve elsewhere by then.

- http and https only (no file://, gopher://, ftp://...), a host, no spaces or control characters.
- Webhooks and Slack: no user:password@ in the URL (a webhook is authenticated by its signing
  secret, and the URL is shown to staff), and no address that is not public: loopback, private
  (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16: cloud metadata), shared,
  reserved, multicast. Otherwise anyone who may edit a channel could make Vigil post to its own
  internal services (SSRF). WEBHOOK_ALLOWED_NETWORKS lists networks to allow anyway (a receiver
  inside your network; the test suite's loopback servers).
- Probes check internal services by design, so private and loopback addresses are allowed; only
  link-local (the cloud metadata service), unspecified and multicast addresses are refused, unless
  listed in PROBE_ALLOWED_NETWORKS. A probe URL may carry user:password@ (a health endpoint behind
  basic auth); it is never shown with them (redact_url).

What is not covered: a name that resolves to a public address when checked and to a private one
when requests resolves it again a moment later (DNS rebinding). Pin such receivers with
WEBHOOK_ALLOWED_NETWORKS empty and a firewall rule for the worker hosts if that matters to you.
"""

import ipaddress
import re
import socket
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError

WEBHOOK = "webhook"
PROBE = "probe"
MAX_LENGTH = 1000
# The cloud metadata services (AWS's IPv6 one sits in fc00::/7, which probes may otherwise reach).
_METADATA = [ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fd00:ec2::254/128")]
_LOCAL_NAMES = re.compile(r"^(localhost|localhost\.localdomain|ip6-localhost|ip6-loopback)$|\.localhost$")


def _allowed_networks(purpose: str) -> list:
    names = settings.WEBHOOK_ALLOWED_NETWORKS if purpose == WEBHOOK else settings.PROBE_ALLOWED_NETWORKS
    return [ipaddress.ip_network(name, strict=False) for name in names]


def address_problem(address: str, purpose: str) -> str | None:
    """Why Vigil must not connect to this IP address for `purpose`, or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # fe80::1%eth0
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _allowed_networks(purpose)):
        return None
    if purpose == WEBHOOK:
        if ip.is_global and not ip.is_multicast:
            return None
        return (
            f"{ip} is not a public address (loopback, private, link-local or reserved); "
            "list its network in WEBHOOK_ALLOWED_NETWORKS to allow it"
        )
    if ip.is_link_local or ip.is_unspecified or ip.is_multicast or any(ip in net for net in _METADATA):
        return f"{ip} is a link-local, unspecified or multicast address; probes may not use it"
    return None


def _numeric_addresses(host: str) -> list[str]:
    """The addresses a host written as a number stands for, without asking DNS: also the forms
    ipaddress does not read but the C library does (2130706433, 0x7f.1, 127.1)."""
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError):
        return []
    return sorted({info[4][0] for info in infos})


def check_url(value: object, purpose: str) -> str | None:
    """Why this URL is refused for `purpose`, or None. Looks at the URL only (no DNS)."""
    if not isinstance(value, str) or not value:
        return "Enter an http:// or https:// URL."
    if len(value) > MAX_LENGTH or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "Enter an http:// or https:// URL without spaces or control characters."
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number in range)
    except ValueError:
        return "Enter a valid http:// or https:// URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Enter an http:// or https:// URL."
    if purpose == WEBHOOK and (parts.username is not None or parts.password is not None):
        return (
            "Put no user name or password in a webhook URL (webhooks are signed with the channel's secret)."
        )
    host = parts.hostname.rstrip(".")
    addresses = ["127.0.0.1"] if _LOCAL_NAMES.search(host.lower()) else _numeric_addresses(host)
    for address in addresses:
        problem = address_problem(address, purpose)
        if problem:
            return f"Vigil may not send requests to {parts.hostname}: {problem}."
    return None


def check_destination(url: str, purpose: str) -> str | None:
    """At send time: the URL's rule, then every address its host resolves to now. A name that
    does not resolve is left to the request itself to fail."""
    problem = check_url(url, purpose)
    if problem:
        return problem
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        return None
    for address in sorted({info[4][0] for info in infos}):
        problem = address_problem(address, purpose)
        if problem:
            return f"Vigil may not send requests to {parts.hostname}: {problem}."
    return None


def validate_webhook_url(value: str) -> None:
    problem = check_url(value, WEBHOOK)
    if problem:
        raise ValidationError(problem)


def validate_probe_url(value: str) -> None:
    problem = check_url(value, PROBE)
    if problem:
        raise ValidationError(problem)


def redact_url(url: str) -> str:
    """A URL safe to show and log: no user:password@, and for anything past the host (Slack's
    path is its secret; query strings carry tokens) only "/…"."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(invalid URL)"
    netloc = f"[{host}]" if ":" in host else host
    if port:
        netloc += f":{port}"
    rest = "/…" if (parts.path not in ("", "/") or parts.query or parts.fragment) else parts.path
    return urlunsplit((parts.scheme, netloc, rest, "", ""))


def without_credentials(url: str) -> str:
    """A probe URL fit for an alert or a metric: its path stays (it says what is probed), its
    user:password@ and query string (tokens) go."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(invalid URL)"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, "…" if parts.query else "", ""))


def scrub(text: str, url: str) -> str:
    """Error text with the URL's secrets taken out: the URL itself, its path and query (which
    requests' exceptions quote) and its password."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return text
    secrets = [
        url,
        parts.path + (f"?{parts.query}" if parts.query else ""),
        parts.query,
        parts.password or "",
    ]
    for secret in sorted({s for s in secrets if s and s != "/" and len(s) > 1}, key=len, reverse=True):
        text = text.replace(secret, redact_url(url) if secret == url else "…")
    return text
