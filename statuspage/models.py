"""Components, incidents, maintenance and the records the status page is computed from.

Row-local rules live here; anything that writes several rows (a status change and its record,
an incident update and its components) is a service in statuspage/services.py.
"""

import hashlib
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from core import outbound
from core.text import validate_line, validate_text
from statuspage import branding_checks


class ComponentStatus(models.TextChoices):
    OPERATIONAL = "operational", gettext_noop("Operational")
    DEGRADED_PERFORMANCE = "degraded_performance", gettext_noop("Degraded performance")
    PARTIAL_OUTAGE = "partial_outage", gettext_noop("Partial outage")
    MAJOR_OUTAGE = "major_outage", gettext_noop("Major outage")
    UNDER_MAINTENANCE = "under_maintenance", gettext_noop("Under maintenance")


# How bad each status is, for "the worst of" decisions (maintenance is planned, so it ranks
# below any outage an incident declares).
STATUS_SEVERITY = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}


def worst_status(statuses) -> str:
    return max(statuses, key=lambda s: STATUS_SEVERITY[s], default=ComponentStatus.OPERATIONAL)


class StatusSource(models.TextChoices):
    MANUAL = "manual", "Set by staff"
    PROBE = "probe", "Health probe"
    CHECK = "check", "Heartbeat check"
    MAINTENANCE = "maintenance", "Maintenance"
    SYSTEM = "system", "System (incident or restoration)"


class StatusHold(models.TextChoices):
    """What keeps probe results from changing a component (statuspage.services.component_status_hold)."""

    MANUAL = "manual", "Held by staff"
    INCIDENT = "incident", "Open incident"
    MAINTENANCE = "maintenance", "Maintenance in progress"


class ComponentGroup(models.Model):
    name = models.CharField(max_length=100, unique=True, validators=[validate_line])
    description = models.CharField(max_length=300, blank=True, validators=[validate_line])
    position = models.PositiveIntegerField(default=0, help_text="Lower comes first on the page.")
    collapsed = models.BooleanField(default=False, help_text="Shown folded on the page until opened.")

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    class Type(models.TextChoices):
        SERVICE = "service", "Service"
        WEBSITE = "website", "Website"
        API = "api", "API"
        DATABASE = "database", "Database"
        NETWORK = "network", "Network"
        THIRD_PARTY = "third_party", "Third-party provider"

    name = models.CharField(max_length=100, validators=[validate_line])
    description = models.CharField(max_length=300, blank=True, validators=[validate_line])
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.SERVICE)
    group = models.ForeignKey(
        ComponentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    position = models.PositiveIntegerField(default=0, help_text="Lower comes first within its group.")
    status = models.CharField(
        max_length=24, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL
    )
    status_source = models.CharField(max_length=16, choices=StatusSource.choices, default=StatusSource.SYSTEM)
    status_changed_at = models.DateTimeField(default=timezone.now)
    health_check_url = models.URLField(blank=True, help_text="Probed by run_probes; empty = not probed.")
    depends_on = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="dependents")
    show_uptime = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]
        indexes = [models.Index(fields=["status"], name="sp_component_status")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # The rule for every URL Vigil requests (http/https, never cloud metadata), as the
        # probe form and API apply it: the component form is another way to set this URL.
        if self.health_check_url:
            problem = outbound.check_url(self.health_check_url, outbound.PROBE)
            if problem:
                raise ValidationError({"health_check_url": problem})


class ComponentStatusChange(models.Model):
    """One row per status change, written in the transaction that changes the status.

    Uptime is computed from these rows, so they are never edited."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=24, choices=ComponentStatus.choices)
    to_status = models.CharField(max_length=24, choices=ComponentStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=16, choices=StatusSource.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        # Serves "the changes of one component in a day" and "the last change before a day".
        indexes = [models.Index(fields=["component", "at"], name="sp_change_component_at")]

    def __str__(self) -> str:
        return f"{self.component_id}: {self.from_status} → {self.to_status}"


class ComponentUptimeDay(models.Model):
    """Seconds spent in each bad state on one UTC day, kept so the page never recomputes 90 days.

    `computed_until` is where the figures stop: a past day is closed at midnight, today's row
    stops at the last recompute, and readers extend it with the current status up to now."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="uptime_days")
    day = models.DateField()
    observed_seconds = models.FloatField(default=0)
    major_outage_seconds = models.FloatField(default=0)
    partial_outage_seconds = models.FloatField(default=0)
    degraded_seconds = models.FloatField(default=0)
    maintenance_seconds = models.FloatField(default=0)
    computed_until = models.DateTimeField()
    closed = models.BooleanField(default=False)

    class Meta:
        ordering = ["component", "day"]
        constraints = [models.UniqueConstraint(fields=["component", "day"], name="sp_uptime_one_row_per_day")]
        indexes = [models.Index(fields=["day"], name="sp_uptime_day")]

    def __str__(self) -> str:
        return f"{self.component_id} {self.day}"


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", gettext_noop("Investigating")
    IDENTIFIED = "identified", gettext_noop("Identified")
    MONITORING = "monitoring", gettext_noop("Monitoring")
    RESOLVED = "resolved", gettext_noop("Resolved")
    POSTMORTEM = "postmortem", gettext_noop("Postmortem")


OPEN_INCIDENT_STATUSES = (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING)


class Impact(models.TextChoices):
    NONE = "none", gettext_noop("None")
    MINOR = "minor", gettext_noop("Minor")
    MAJOR = "major", gettext_noop("Major")
    CRITICAL = "critical", gettext_noop("Critical")


IMPACT_RANK = {Impact.NONE: 0, Impact.MINOR: 1, Impact.MAJOR: 2, Impact.CRITICAL: 3}
# The impact a component status implies (Statuspage's own mapping).
IMPACT_OF_STATUS = {
    ComponentStatus.OPERATIONAL: Impact.NONE,
    ComponentStatus.UNDER_MAINTENANCE: Impact.NONE,
    ComponentStatus.DEGRADED_PERFORMANCE: Impact.MINOR,
    ComponentStatus.PARTIAL_OUTAGE: Impact.MAJOR,
    ComponentStatus.MAJOR_OUTAGE: Impact.CRITICAL,
}
# The status of a component that an incident names without one (a plain list of affected
# components): the reverse of the mapping above. Named as affected, a component is at least
# degraded, also while the incident's impact is still "none".
STATUS_OF_IMPACT = {
    Impact.NONE: ComponentStatus.DEGRADED_PERFORMANCE,
    Impact.MINOR: ComponentStatus.DEGRADED_PERFORMANCE,
    Impact.MAJOR: ComponentStatus.PARTIAL_OUTAGE,
    Impact.CRITICAL: ComponentStatus.MAJOR_OUTAGE,
}


class IncidentQuerySet(models.QuerySet):
    def unresolved(self):
        return self.filter(status__in=OPEN_INCIDENT_STATUSES)


class Incident(models.Model):
    title = models.CharField(max_length=200, validators=[validate_line])
    status = models.CharField(
        max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING
    )
    impact = models.CharField(
        max_length=10, choices=Impact.choices, default=Impact.NONE, help_text="Derived from the components."
    )
    impact_override = models.CharField(
        max_length=10, choices=Impact.choices, blank=True, help_text="Set to override the derived impact."
    )
    components = models.ManyToManyField(Component, through="IncidentComponent", related_name="incidents")
    started_at = models.DateTimeField(default=timezone.now)
    monitoring_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    postmortem_body = models.TextField(blank=True, validators=[validate_text])
    postmortem_published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["status"], name="sp_incident_status"),
            models.Index(fields=["-started_at"], name="sp_incident_started"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("statuspage:incident", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_INCIDENT_STATUSES

    @property
    def effective_impact(self) -> str:
        return self.impact_override or self.impact


class IncidentComponent(models.Model):
    """A component an incident affects, with the status the incident currently declares for it."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=24, choices=ComponentStatus.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "component"], name="sp_incident_component_once")
        ]

    def __str__(self) -> str:
        return f"incident {self.incident_id}: component {self.component_id} {self.status}"


class IncidentUpdate(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=16, choices=IncidentStatus.choices)
    body = models.TextField(validators=[validate_text])
    display_at = models.DateTimeField(default=timezone.now, help_text="The time shown on the page.")
    # A snapshot, as Statuspage shows it: [{"code", "name", "old_status", "new_status"}].
    affected_components = models.JSONField(default=list, blank=True)
    notify = models.BooleanField(default=True, help_text="Tell subscribers and channels about this update.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-display_at", "-id"]
        indexes = [models.Index(fields=["incident", "-display_at"], name="sp_update_incident_time")]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.body[:60]}"


class MaintenanceStatus(models.TextChoices):
    SCHEDULED = "scheduled", gettext_noop("Scheduled")
    IN_PROGRESS = "in_progress", gettext_noop("In progress")
    VERIFYING = "verifying", gettext_noop("Verifying")
    COMPLETED = "completed", gettext_noop("Completed")
    CANCELLED = "cancelled", gettext_noop("Cancelled")


ACTIVE_MAINTENANCE_STATUSES = (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING)


class MaintenanceQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=ACTIVE_MAINTENANCE_STATUSES)

    def upcoming(self):
        return self.filter(status=MaintenanceStatus.SCHEDULED)


class Maintenance(models.Model):
    title = models.CharField(max_length=200, validators=[validate_line])
    description = models.TextField(blank=True, validators=[validate_text])
    components = models.ManyToManyField(Component, related_name="maintenances", blank=True)
    scheduled_for = models.DateTimeField()
    scheduled_until = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=MaintenanceStatus.choices, default=MaintenanceStatus.SCHEDULED
    )
    auto_start = models.BooleanField(default=True, help_text="Start automatically at the scheduled time.")
    auto_complete = models.BooleanField(default=True, help_text="Complete automatically at the end time.")
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The iCalendar SEQUENCE: statuspage.services raises it (an F() update, so two edits at once
    # both count) whenever what a calendar shows changes: times, texts, components, status.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    # An occurrence of a recurring schedule: the rule's start for it, which never changes (the
    # window's own times may be edited), so each occurrence is created once (the constraint).
    schedule = models.ForeignKey(
        "MaintenanceSchedule", null=True, blank=True, on_delete=models.SET_NULL, related_name="occurrences"
    )
    occurrence_start = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = MaintenanceQuerySet.as_manager()

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        verbose_name_plural = "maintenance"
        indexes = [models.Index(fields=["status", "scheduled_for"], name="sp_maintenance_due")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scheduled_until__gt=models.F("scheduled_for")),
                name="sp_maintenance_ends_after",
                violation_error_message="The window must end after it starts.",
            ),
            models.UniqueConstraint(
                fields=["schedule", "occurrence_start"],
                condition=models.Q(schedule__isnull=False),
                name="sp_maintenance_one_per_occurrence",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("statuspage:maintenance", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_MAINTENANCE_STATUSES


class MaintenanceUpdate(models.Model):
    maintenance = models.ForeignKey(Maintenance, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=16, choices=MaintenanceStatus.choices)
    body = models.TextField(validators=[validate_text])
    display_at = models.DateTimeField(default=timezone.now)
    notify = models.BooleanField(default=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-display_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.body[:60]}"


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_time_zone(name: str) -> None:
    # Only IANA names: ZoneInfo would also open a file path handed to it.
    if name not in time_zone_names():
        raise ValidationError(f"{name!r} is not a time zone; use an IANA name such as Europe/Berlin.")


class MaintenanceSchedule(models.Model):
    """Recurring maintenance: an RRULE read in a time zone, each occurrence a Maintenance row
    that statuspage.schedules.services creates a horizon ahead (schedule_maintenance)."""

    title = models.CharField(max_length=200, validators=[validate_line])
    description = models.TextField(blank=True, validators=[validate_text])
    components = models.ManyToManyField(Component, related_name="maintenance_schedules", blank=True)
    rrule = models.CharField(
        "recurrence rule",
        max_length=500,
        help_text="An iCalendar RRULE, e.g. FREQ=MONTHLY;BYDAY=1SU (the first Sunday of each month).",
    )
    starts_on = models.DateField(
        default=timezone.localdate, help_text="The first day the rule may fall on (its DTSTART)."
    )
    start_time = models.TimeField(help_text="Local time of day each window starts, in the time zone below.")
    duration = models.DurationField(help_text="How long each window lasts, e.g. 02:00:00.")
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="The rule and the start time are read here (IANA name, e.g. Europe/Berlin).",
    )
    auto_start = models.BooleanField(default=True)
    auto_complete = models.BooleanField(default=True)
    notify = models.BooleanField(default=True, help_text="Announce each occurrence to subscribers.")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration__gt=timedelta(0)),
                name="sp_schedule_positive_duration",
                violation_error_message="The duration must be positive.",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def next_starts(self, count: int = 5, *, after: datetime | None = None) -> list[datetime]:
        """The next `count` starts of the rule after `after` (now), in UTC: the admin's preview."""
        from statuspage.schedules.rules import InvalidRule, occurrences

        after = after or timezone.now()
        try:
            found = occurrences(
                self.rrule,
                starts_on=self.starts_on,
                start_time=self.start_time,
                time_zone=self.time_zone,
                after=after,
                until=after + timedelta(days=366 * 5),
                limit=count,
            )
            return list(found)
        except InvalidRule:
            return []


# A template opens an incident, so it starts in one of the open states.
OPEN_STATUS_CHOICES = [choice for choice in IncidentStatus.choices if choice[0] in OPEN_INCIDENT_STATUSES]


class IncidentTemplate(models.Model):
    """What a known kind of incident opens with, so nobody types it while things are broken.

    Opening from it is statuspage.services.incident_create_from_template: whatever the request
    gives wins, the template fills the rest."""

    name = models.CharField(max_length=100, unique=True, validators=[validate_line])
    title = models.CharField(max_length=200, validators=[validate_line])
    status = models.CharField(
        max_length=16, choices=OPEN_STATUS_CHOICES, default=IncidentStatus.INVESTIGATING
    )
    message = models.TextField(validators=[validate_text], help_text="Markdown, as in any incident update.")
    impact_override = models.CharField(
        max_length=10, choices=Impact.choices, blank=True, help_text="Empty: derived from the components."
    )
    notify = models.BooleanField(default=True, help_text="Tell subscribers and channels.")
    components = models.ManyToManyField(Component, through="IncidentTemplateComponent", related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def incident_values(self) -> dict:
        """The keyword arguments of incident_create this template stands for. Without
        components it names none, so a caller's own (an alert's component) still apply."""
        values = {
            "title": self.title,
            "message": self.message,
            "status": self.status,
            "impact_override": self.impact_override,
            "notify": self.notify,
        }
        components = {row.component: row.status for row in self.affected.select_related("component")}
        if components:
            values["components"] = components
        return values


class IncidentTemplateComponent(models.Model):
    """A component an incident opened from the template affects, and the status it gets."""

    template = models.ForeignKey(IncidentTemplate, on_delete=models.CASCADE, related_name="affected")
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=24, choices=ComponentStatus.choices, default=ComponentStatus.DEGRADED_PERFORMANCE
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "component"], name="sp_template_component_once")
        ]

    def __str__(self) -> str:
        return f"template {self.template_id}: component {self.component_id} {self.status}"


class StatusPageBranding(models.Model):
    """How the public page, its mails, feeds and static copy look. One row (pk=1), written only
    by statuspage.services.branding_update; with no row, or an empty one, the page is Vigil's own."""

    SINGLETON_PK = 1

    page_title = models.CharField(
        max_length=100,
        blank=True,
        validators=[validate_line],
        help_text="Replaces “<SITE_NAME> Status” in the page title, the masthead, the feeds and the mails.",
    )
    logo = models.FileField(
        upload_to="branding",
        blank=True,
        max_length=200,
        validators=[branding_checks.validate_logo_file],
        help_text="PNG or JPEG, at most 512 KB and 2000 pixels a side (SVG is refused: it can carry script).",
    )
    favicon = models.FileField(
        upload_to="branding",
        blank=True,
        max_length=200,
        validators=[branding_checks.validate_favicon_file],
        help_text="PNG or ICO, at most 100 KB and 512 pixels a side.",
    )
    accent_colour = models.CharField(
        max_length=7,
        blank=True,
        validators=[branding_checks.validate_accent],
        help_text="#rrggbb: buttons and the mails' accents.",
    )
    custom_css = models.TextField(
        blank=True,
        validators=[branding_checks.validate_css],
        help_text="Plain CSS, served as a file of its own (no '<', @import, remote url() or escapes).",
    )
    footer_links = models.JSONField(
        default=list,
        blank=True,
        validators=[branding_checks.validate_footer_links],
        help_text='Up to 5 links: [{"label": "Home", "url": "https://example.com"}].',
    )
    about = models.CharField(
        max_length=300, blank=True, validators=[validate_line], help_text="One line shown in the footer."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "status page branding"
        verbose_name_plural = "status page branding"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="statuspage_branding_singleton")]

    def __str__(self) -> str:
        return "Status page branding"

    @property
    def title(self) -> str:
        return self.page_title or f"{settings.SITE_NAME} Status"

    def stylesheet(self) -> str:
        """The branding stylesheet's text, or "" when there is nothing to add to Vigil's own."""
        parts = []
        if self.accent_colour:
            parts.append(f":root {{ --brand: {self.accent_colour}; --accent: {self.accent_colour}; }}\n")
        if self.custom_css:
            parts.append(self.custom_css.strip() + "\n")
        return "".join(parts)

    def stylesheet_name(self) -> str:
        text = self.stylesheet()
        if not text:
            return ""
        return f"custom-{hashlib.sha256(text.encode()).hexdigest()[:16]}.css"

    def file_names(self) -> dict[str, str]:
        """URL name under /branding/ -> the stored file's name, for the pictures set."""
        return {field.name.rsplit("/", 1)[-1]: field.name for field in (self.logo, self.favicon) if field}

    def url_of(self, name: str) -> str:
        return reverse("statuspage:branding-file", args=[name]) if name else ""

    @property
    def stylesheet_url(self) -> str:
        return self.url_of(self.stylesheet_name())

    @property
    def logo_url(self) -> str:
        return self.url_of(self.logo.name.rsplit("/", 1)[-1]) if self.logo else ""

    @property
    def favicon_url(self) -> str:
        return self.url_of(self.favicon.name.rsplit("/", 1)[-1]) if self.favicon else ""

    def published_paths(self) -> list[str]:
        """The branding files a static copy of the page needs."""
        return [self.url_of(name) for name in [self.stylesheet_name(), *self.file_names()] if name]
