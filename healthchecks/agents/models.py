from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class ProbeLocation(models.Model):
    """Where probes run besides the server itself: one agent process (or several sharing its
    keys) at that place. A probe with no location is run by the server, as before agents."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Written by the agent services only: the newest result received, and whether the
    # location is silent (its alert is open and its verdicts do not count).
    last_result_at = models.DateTimeField(null=True, blank=True)
    is_silent = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def fingerprint(self) -> str:
        return f"agent-location:{self.pk}"


class AgentKey(models.Model):
    """The secret an agent of a location authenticates with. Only its SHA-256 digest is stored
    (core.tokens); the key itself is shown once, when it is made."""

    location = models.ForeignKey(ProbeLocation, on_delete=models.CASCADE, related_name="keys")
    name = models.CharField(max_length=100, blank=True, help_text="What runs with it (a host name).")
    prefix = models.CharField(max_length=8, help_text="The key's first characters, to tell keys apart.")
    key_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["location__name", "-created_at"]

    def __str__(self) -> str:
        return f"{self.location} key {self.prefix}…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ProbeLocationState(models.Model):
    """The debounce state of one probe at one location: the same streaks and verdict rule as
    the probe's own (Probe.count, Probe.desired_status), kept per location for the quorum."""

    probe = models.ForeignKey("healthchecks.Probe", on_delete=models.CASCADE, related_name="location_states")
    location = models.ForeignKey(ProbeLocation, on_delete=models.CASCADE, related_name="states")
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_successes = models.PositiveIntegerField(default=0)
    consecutive_slow = models.PositiveIntegerField(default=0)
    consecutive_fast = models.PositiveIntegerField(default=0)
    verdict = models.CharField(max_length=30, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_ok = models.BooleanField(null=True, blank=True)
    last_latency_ms = models.FloatField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    STREAK_FIELDS = ["consecutive_failures", "consecutive_successes", "consecutive_slow", "consecutive_fast"]
    LAST_FIELDS = ["verdict", "last_checked_at", "last_ok", "last_latency_ms", "last_error"]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["probe", "location"], name="probelocationstate_unique_pair")
        ]

    def __str__(self) -> str:
        return f"{self.probe_id} @ {self.location_id}: {self.verdict or '-'}"


class ComponentQuorum(models.Model):
    """How many of a component's reporting locations must agree before its status follows
    them; without one, more than half of them."""

    component = models.OneToOneField("statuspage.Component", on_delete=models.CASCADE, related_name="quorum")
    locations_required = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Locations that must find the component down (or degraded) for it to be so; "
        "capped at the number of locations reporting.",
    )

    def __str__(self) -> str:
        return f"{self.component}: {self.locations_required}"
