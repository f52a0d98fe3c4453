from django.db import models
from django.utils import timezone


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
