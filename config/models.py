"""The console's own rows: the run-time operations config (one row) and the audit log."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class OperationsConfig(models.Model):
    """Thresholds and intervals staff change at run time. One row (pk=1), seeded from the
    environment the first time it is read (config/runtime_config.py)."""

    SINGLETON_PK = 1

    response_time_threshold_ms = models.FloatField(validators=[MinValueValidator(0)])
    error_rate_threshold_percent = models.FloatField(validators=PERCENT)
    memory_usage_threshold_percent = models.FloatField(validators=PERCENT)
    cpu_usage_threshold_percent = models.FloatField(validators=PERCENT)
    disk_usage_threshold_percent = models.FloatField(validators=PERCENT)
    health_check_interval_seconds = models.PositiveIntegerField(
        validators=[MinValueValidator(5), MaxValueValidator(86400)]
    )
    metric_collection_interval_seconds = models.PositiveIntegerField(
        validators=[MinValueValidator(5), MaxValueValidator(86400)]
    )
    alert_check_interval_seconds = models.PositiveIntegerField(
        validators=[MinValueValidator(5), MaxValueValidator(86400)]
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "operations config"
        verbose_name_plural = "operations config"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="operations_config_singleton")]

    def __str__(self) -> str:
        return "Operations config"


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"

    class Via(models.TextChoices):
        ADMIN = "admin", "Admin"
        API = "api", "API"
        OTHER = "other", "Other"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Kept as text too: the entry must still say who after the user is deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    via = models.CharField(max_length=8, choices=Via.choices)
    method = models.CharField(max_length=8, blank=True)
    path = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=8, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300)
    # {field: value} before and after (None for a create / a delete); `changes` lists only the
    # fields that differ, as {field: [before, after]}, which is what the admin shows first.
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "audit entries"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-at"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.get_action_display().lower()} {self.object_repr}"


class ApiKey(models.Model):
    """A key for the API: shown once, stored only as its SHA-256 digest, limited to scopes, and
    optionally expiring. The prefix (the first characters of the key) is kept in clear so a key
    can be recognised in a list and in logs without being usable."""

    name = models.CharField(max_length=100, help_text="What uses this key, e.g. 'alertmanager on prod-1'.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    prefix = models.CharField(max_length=16, db_index=True, editable=False)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_from = models.GenericIPAddressField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def usable_at(self, now) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class SsoIdentity(models.Model):
    """The link between a Vigil user and a person at the identity provider. A user is found by
    (issuer, subject), never by name or e-mail: both can change or be reused at the IdP, the
    subject is the one identifier OpenID Connect promises stays the same."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_sign_in_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "single sign-on identity"
        verbose_name_plural = "single sign-on identities"
        ordering = ["issuer", "subject"]
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique")]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class SecretReference(models.Model):
    """Which environment variable a secret of the configuration came from (config.configcode).

    The document names the variable, never the value; this row lets export name it again. The
    digest of the value it gave shows when the secret was changed since by other means (the
    admin), which export then reports."""

    section = models.CharField(max_length=40)
    key = models.CharField(max_length=300)
    field = models.CharField(max_length=40)
    variable = models.CharField(max_length=200)
    value_digest = models.CharField(max_length=64, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["section", "key", "field"], name="config_secret_reference_once")
        ]

    def __str__(self) -> str:
        return f"{self.section}[{self.key}].{self.field} from ${self.variable}"


class ConfigApply(models.Model):
    """One apply of a configuration document that changed something: who, how, and the diff
    (keys and field names only, never values). The audit log points at it."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    via = models.CharField(max_length=8, choices=AuditEntry.Via.choices)
    pruned = models.BooleanField(default=False)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    changes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "configuration apply"

    def __str__(self) -> str:
        return f"config applied by {self.actor_name}: +{self.created} ~{self.updated} -{self.deleted}"


class WebAuthnCredential(models.Model):
    """A security key or passkey registered for two-factor sign-in (config/mfa/). The public key
    and the signature counter are all the server keeps: the private key never leaves the
    authenticator."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webauthn_credentials"
    )
    name = models.CharField(max_length=64, help_text="Which key this is, e.g. 'YubiKey on my keyring'.")
    # The authenticator's id for the credential, base64url (what the browser sends back).
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "security key"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"
