from django.db import models
from django.utils import timezone


class Backup(models.Model):
    """One run of `backup`: the file it wrote, its checksum, and the row counts of the main
    tables in the snapshot it copied (what a verification compares against).
    Written by backups.services only."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETE = "complete", "Complete"
        FAILED = "failed", "Failed"

    class Engine(models.TextChoices):
        POSTGRESQL = "postgresql", "PostgreSQL (pg_dump -Fc)"
        SQLITE = "sqlite", "SQLite (online backup)"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    engine = models.CharField(max_length=12, choices=Engine.choices)
    file_name = models.CharField(max_length=200, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    table_counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set when retention removed the file; the row stays as the history.
    pruned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            # The claim: one backup runs at a time, whichever worker or command started it.
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="running"), name="backup_one_running"
            ),
        ]
        indexes = [models.Index(fields=["status", "-started_at"], name="backup_status_started")]

    def __str__(self) -> str:
        return self.file_name or f"backup #{self.pk}"

    @property
    def duration(self):
        return self.finished_at - self.started_at if self.finished_at else None


class BackupVerification(models.Model):
    """One run of `backup_verify`: the backup restored into a scratch database, its migrations
    checked and its row counts compared. Written by backups.services only."""

    class Result(models.TextChoices):
        RUNNING = "running", "Running"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"

    backup = models.ForeignKey(
        Backup, null=True, blank=True, on_delete=models.SET_NULL, related_name="verifications"
    )
    file_name = models.CharField(max_length=200, blank=True)
    # When the verified backup was taken (its manifest): the age /health/detailed shows.
    backup_taken_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=10, choices=Result.choices, default=Result.RUNNING)
    counts_expected = models.JSONField(default=dict, blank=True)
    counts_found = models.JSONField(default=dict, blank=True)
    migrations_pending = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            # Two verifications at once would restore two scratch copies for one answer.
            models.UniqueConstraint(
                fields=["result"],
                condition=models.Q(result="running"),
                name="backup_verification_one_running",
            ),
        ]
        indexes = [models.Index(fields=["result", "-started_at"], name="backup_verif_result_started")]

    def __str__(self) -> str:
        return f"{self.file_name}: {self.result}"

    @property
    def count_mismatches(self) -> dict[str, tuple]:
        """{table: (expected, found)} for the tables whose counts differ."""
        tables = set(self.counts_expected) | set(self.counts_found)
        return {
            table: (self.counts_expected.get(table), self.counts_found.get(table))
            for table in sorted(tables)
            if self.counts_expected.get(table) != self.counts_found.get(table)
        }
