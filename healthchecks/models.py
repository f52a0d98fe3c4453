import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from core import outbound
from core.http_headers import headers_problem
from statuspage.models import ComponentStatus

OUTAGE_STATUSES = (ComponentStatus.MAJOR_OUTAGE, ComponentStatus.PARTIAL_OUTAGE)


class Heartbeat(models.Model):
    """The last sign of life from a beat process or a worker, so health can tell they run."""

    class Kind(models.TextChoices):
        BEAT = "beat", "Beat"
        WORKER = "worker", "Worker"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=200, help_text="Host name of the process.")
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="heartbeat_unique_kind_name")]
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"

    def age_seconds(self, now=None) -> float:
        return ((now or timezone.now()) - self.last_seen).total_seconds()


def _default_interval() -> int:
    return settings.HEALTH_CHECK_INTERVAL


def _default_codes() -> list[int]:
    return [200]


def validate_status_codes(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Give a non-empty list of HTTP status codes, e.g. [200, 204].")
    for code in value:
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
            raise ValidationError(f"{code!r} is not an HTTP status code (100–599).")


HOST_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?|[0-9A-Fa-f:.]+")


def validate_probe_host(value: str) -> None:
    """A host name or IP address, and one probes may connect to (the rule of core/outbound.py)."""
    if not HOST_NAME.fullmatch(value) or ".." in value:
        raise ValidationError("Enter a host name or an IP address (no scheme, port or path).")
    netloc = f"[{value}]" if ":" in value else value
    problem = outbound.check_url(f"http://{netloc}/", outbound.PROBE)
    if problem:
        raise ValidationError(problem)


def validate_nameserver(value: str) -> None:
    """A DNS probe's server is a place Vigil sends packets to: the same rule as a probe's host."""
    try:
        problem = outbound.address_problem(str(value), outbound.PROBE)
    except ValueError:
        return  # not an IP address at all: the field's own validator says so
    if problem:
        raise ValidationError(f"Vigil may not send DNS queries to {value}: {problem}.")


def validate_request_headers(value: str) -> None:
    problem = headers_problem(value)
    if problem:
        raise ValidationError(problem)


class Probe(models.Model):
    """One way a component is watched (its health_check_url over HTTP, a TCP port, a DNS name,
    a TLS certificate), and the debounce state of its results. A component may have several;
    its status is the worst of their verdicts.

    The counters are written only by the run that claimed the probe (claims are exclusive), so
    they need no lock; the component's status is changed through statuspage's service."""

    class Kind(models.TextChoices):
        HTTP = "http", "HTTP"
        TCP = "tcp", "TCP"
        DNS = "dns", "DNS"
        TLS = "tls", "TLS certificate"
        ICMP = "icmp", "ICMP echo (ping)"

    class Method(models.TextChoices):
        GET = "GET", "GET"
        HEAD = "HEAD", "HEAD"
        POST = "POST", "POST"
        PUT = "PUT", "PUT"

    class RecordType(models.TextChoices):
        A = "A", "A"
        AAAA = "AAAA", "AAAA"
        CNAME = "CNAME", "CNAME"
        MX = "MX", "MX"
        NS = "NS", "NS"
        TXT = "TXT", "TXT"

    # The fields each kind needs besides the common ones; the rest are ignored for that kind.
    KIND_FIELDS = {
        Kind.HTTP: [
            "method",
            "request_headers",
            "request_body",
            "basic_auth_user",
            "basic_auth_password",
            "verify_tls",
            "expected_status_codes",
            "keyword",
            "json_path",
            "json_value",
        ],
        Kind.TCP: ["host", "port", "tls_handshake", "verify_tls"],
        Kind.DNS: ["host", "record_type", "expected_values", "nameserver", "nameserver_port"],
        Kind.TLS: ["host", "port"],
        Kind.ICMP: ["host"],
    }

    # Credentials: write-only in the API, shown in the admin only to who may change the probe,
    # digested in the audit log (its rule for *_password and request_headers).
    SECRET_FIELDS = ("request_headers", "basic_auth_password")

    # What a probe run writes back (one executemany per round); read-only in the admin and the API.
    STATE_FIELDS = [
        "consecutive_failures",
        "consecutive_successes",
        "consecutive_slow",
        "consecutive_fast",
        "is_down",
        "verdict",
        "last_checked_at",
        "last_ok",
        "last_status_code",
        "last_latency_ms",
        "last_error",
        "cert_expires_at",
        "cert_days_left",
        "cert_checked_at",
        "cert_error",
    ]

    component = models.ForeignKey("statuspage.Component", on_delete=models.CASCADE, related_name="probes")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.HTTP)
    host = models.CharField(
        max_length=253,
        blank=True,
        validators=[validate_probe_host],
        help_text="tcp, dns, tls: the host name or IP address to check.",
    )
    port = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
        help_text="tcp: the port to connect to; tls: the port (443 if empty).",
    )
    tls_handshake = models.BooleanField(default=False, help_text="tcp: also complete a TLS handshake.")
    record_type = models.CharField(max_length=8, choices=RecordType.choices, default=RecordType.A)
    expected_values = models.JSONField(
        default=list,
        blank=True,
        help_text="dns: values the answer must contain (all of them); empty means it must resolve.",
    )
    nameserver = models.GenericIPAddressField(
        null=True,
        blank=True,
        validators=[validate_nameserver],
        help_text="dns: ask this server instead of the system resolver.",
    )
    nameserver_port = models.PositiveIntegerField(
        default=53, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.GET)
    request_headers = models.TextField(
        blank=True,
        validators=[validate_request_headers],
        help_text="http: extra request headers, one 'Name: value' per line (an API key, say). Kept secret.",
    )
    request_body = models.TextField(
        blank=True,
        max_length=10_000,
        help_text="http: the body sent with POST or PUT, as typed (set its Content-Type in the headers).",
    )
    basic_auth_user = models.CharField(max_length=200, blank=True, help_text="http: a basic-auth user name.")
    basic_auth_password = models.CharField(
        max_length=200, blank=True, help_text="http: the basic-auth password. Kept secret."
    )
    verify_tls = models.BooleanField(
        default=True,
        help_text="http, tcp: check the server's certificate. Off for a self-signed one: the probe then "
        "only asks whether it answers.",
    )
    expected_status_codes = models.JSONField(default=_default_codes, validators=[validate_status_codes])
    keyword = models.CharField(max_length=200, blank=True, help_text="Text the response body must contain.")
    json_path = models.CharField(
        max_length=200,
        blank=True,
        help_text="Dotted path that must exist in a JSON body (status, data.0.ok).",
    )
    json_value = models.CharField(
        max_length=200, blank=True, help_text="If set, the value at json_path must equal this (as text)."
    )
    timeout_seconds = models.FloatField(
        default=5.0,
        validators=[MinValueValidator(0.1), MaxValueValidator(30)],
        help_text="Seconds; the whole request's deadline (at most 30: a round stays in its task time limit).",
    )
    degraded_latency_ms = models.PositiveIntegerField(
        default=2000,
        validators=[MinValueValidator(1), MaxValueValidator(600_000)],
        help_text="A response slower than this counts as degraded performance.",
    )
    interval_seconds = models.PositiveIntegerField(
        default=_default_interval, validators=[MinValueValidator(5), MaxValueValidator(86_400)]
    )
    failures_before_down = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    successes_before_up = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    enabled = models.BooleanField(default=True)
    locations = models.ManyToManyField(
        "healthchecks.ProbeLocation",
        blank=True,
        related_name="probes",
        help_text="Where agents run this probe; none: the server runs it itself.",
    )
    manual_hold_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Probes leave the status alone until then; afterwards a manual status is released to them.",
    )

    # Debounce state.
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_successes = models.PositiveIntegerField(default=0)
    consecutive_slow = models.PositiveIntegerField(default=0)
    consecutive_fast = models.PositiveIntegerField(default=0)
    is_down = models.BooleanField(default=False, help_text="The debounced verdict that raised the alert.")
    verdict = models.CharField(
        max_length=30,
        blank=True,
        choices=ComponentStatus.choices,
        help_text="The status this probe's streaks last called for; the component takes the worst.",
    )
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_ok = models.BooleanField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_latency_ms = models.FloatField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    next_due_at = models.DateTimeField(default=timezone.now)

    # TLS certificate (https only), read at most once per PROBE_CERT_CHECK_HOURS.
    cert_expires_at = models.DateTimeField(null=True, blank=True)
    cert_days_left = models.IntegerField(null=True, blank=True)
    cert_checked_at = models.DateTimeField(null=True, blank=True)
    cert_error = models.CharField(max_length=300, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["component__position", "component__name"]
        # Serves the claim query: enabled probes due now, oldest first.
        indexes = [models.Index(fields=["enabled", "next_due_at"], name="probe_enabled_due")]
        constraints = [
            # The HTTP probe checks the component's health_check_url, so one is enough; it also
            # keeps two rounds that both create the default probe from making two.
            models.UniqueConstraint(
                fields=["component"], condition=models.Q(kind="http"), name="probe_one_http_per_component"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} probe of {self.component}"

    def clean(self) -> None:
        if self.json_value and not self.json_path:
            raise ValidationError({"json_value": "Set json_path too: the value is compared at that path."})
        if self.kind != self.Kind.HTTP and not self.host:
            raise ValidationError({"host": f"A {self.kind} probe needs a host."})
        if self.kind == self.Kind.TCP and not self.port:
            raise ValidationError({"port": "A tcp probe needs a port."})

    @property
    def fingerprint(self) -> str:
        # One alert per component, whichever of its probes finds it down.
        return f"probe:{self.component_id}"

    def target(self) -> str:
        """What this probe checks, for alerts and metrics (a URL without its credentials)."""
        if self.kind == self.Kind.HTTP:
            return outbound.without_credentials(self.component.health_check_url)
        if self.kind == self.Kind.DNS:
            return f"{self.host} {self.record_type}"
        if self.kind == self.Kind.ICMP or self.port is None:
            return self.host
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def cert_check_due(self, now: datetime) -> bool:
        if self.cert_checked_at is None:
            return True
        return now - self.cert_checked_at >= timedelta(hours=settings.PROBE_CERT_CHECK_HOURS)

    def count(self, *, ok: bool, slow: bool) -> None:
        """Fold one result into the streaks (a slow answer is still a success)."""
        if not ok:
            self.consecutive_failures += 1
            self.consecutive_successes = self.consecutive_slow = self.consecutive_fast = 0
            return
        self.consecutive_failures = 0
        self.consecutive_successes += 1
        if slow:
            self.consecutive_slow += 1
            self.consecutive_fast = 0
        else:
            self.consecutive_fast += 1
            self.consecutive_slow = 0

    def verdict_update(self, component_status: str) -> None:
        """Move this probe's own verdict by its streaks; a new probe starts from the component's status."""
        current = self.verdict or component_status
        self.verdict = self.desired_status(current) or current

    def desired_status(self, current: str) -> str | None:
        """The status the streaks call for, or None to leave it as it is (still debouncing).

        Worse needs `failures_before_down` bad results in a row (failures for an outage, slow
        answers for degraded); better needs `successes_before_up` good ones. So a flapping
        endpoint never reaches either count and the status stays put."""
        down, up = self.failures_before_down, self.successes_before_up
        if self.consecutive_failures:
            target = ComponentStatus.MAJOR_OUTAGE if self.consecutive_failures >= down else None
        elif current in OUTAGE_STATUSES:
            if self.consecutive_successes < up:
                target = None
            elif self.consecutive_slow:
                target = ComponentStatus.DEGRADED_PERFORMANCE
            else:
                target = ComponentStatus.OPERATIONAL
        elif self.consecutive_slow:
            target = ComponentStatus.DEGRADED_PERFORMANCE if self.consecutive_slow >= down else None
        elif current == ComponentStatus.DEGRADED_PERFORMANCE:
            target = ComponentStatus.OPERATIONAL if self.consecutive_fast >= up else None
        else:
            target = ComponentStatus.OPERATIONAL
        return None if target == current else target

    def verdict_down(self) -> bool:
        return self.consecutive_failures >= self.failures_before_down

    def verdict_up(self) -> bool:
        return self.consecutive_successes >= self.successes_before_up


class ProbeResult(models.Model):
    """One probe run. Kept LOGS_RETENTION_DAYS (healthchecks.retention purges the rest)."""

    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="results")
    checked_at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    slow = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    # Where it ran (none: the server itself) and, for an agent's result, the id the agent gave
    # it: a batch sent again is stored once.
    location = models.ForeignKey(
        "healthchecks.ProbeLocation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [
            # The history API: one probe's results over a window; also the retention purge by time.
            models.Index(fields=["probe", "checked_at"], name="proberesult_probe_time"),
            models.Index(fields=["checked_at"], name="proberesult_time"),
        ]

    def __str__(self) -> str:
        return f"{self.probe_id} {'ok' if self.ok else 'fail'} @ {self.checked_at:%Y-%m-%d %H:%M:%S}"


def validate_probe_url(value: str) -> None:
    """Probes speak HTTP only, and never to the cloud metadata service: the one rule for every
    URL Vigil sends requests to (core/outbound.py)."""
    outbound.validate_probe_url(value)


# Heartbeat checks live in their own module; importing them here makes them this app's models.
from healthchecks.agents.models import (  # noqa: E402, F401
    AgentKey,
    ComponentQuorum,
    ProbeLocation,
    ProbeLocationState,
)
from healthchecks.pings.models import Check, CheckProject, Ping  # noqa: E402, F401
