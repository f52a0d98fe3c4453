"""The metric time series (the specification's SystemMetrics) and its rollups.

Raw points live in Metric; MinuteRollup and HourRollup hold one row per series and period
(count, sum, min, max and a mergeable quantile sketch), and MinuteNameRollup and HourNameRollup
one row per metric name and period across its series, so a 24 h or 30 d chart reads a few
thousand rollup rows instead of millions of raw points. RollupCursor records how far each
resolution is rolled up: chart queries read rollups before it and raw points after it.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from monitoring import sketch


class MetricType(models.TextChoices):
    SYSTEM = "system", "System"
    PERFORMANCE = "performance", "Performance"
    DATABASE = "database", "Database"
    NETWORK = "network", "Network"
    APPLICATION = "application", "Application"
    BUSINESS = "business", "Business"


class MetricCategory(models.TextChoices):
    """The categories Vigil knows. The column takes any lowercase slug as well, so an API client
    can push a category of its own without a migration (extensible); these are the ones the
    built-in collectors use and the admin offers as filters."""

    CPU_USAGE = "cpu_usage", "CPU usage"
    LOAD_AVERAGE = "load_average", "Load average"
    MEMORY_USAGE = "memory_usage", "Memory usage"
    SWAP_USAGE = "swap_usage", "Swap usage"
    DISK_USAGE = "disk_usage", "Disk usage"
    NETWORK_IO = "network_io", "Network I/O"
    RESPONSE_TIME = "response_time", "Response time"
    ERROR_RATE = "error_rate", "Error rate"
    THROUGHPUT = "throughput", "Throughput"
    CONCURRENT_USERS = "concurrent_users", "Concurrent users"
    USER_ENGAGEMENT = "user_engagement", "User engagement"
    CONNECTIONS = "connections", "Connections"
    QUEUE_DEPTH = "queue_depth", "Queue depth"


class Metric(models.Model):
    metric_type = models.CharField(max_length=20, choices=MetricType.choices)
    category = models.CharField(max_length=50, help_text="A MetricCategory value or a custom slug.")
    name = models.CharField(max_length=200)
    value = models.FloatField()
    unit = models.CharField(max_length=20, blank=True, default="")
    source = models.CharField(max_length=100, blank=True, default="", help_text="Host or service.")
    endpoint = models.CharField(max_length=200, blank=True, default="", help_text="Route pattern.")
    tags = models.JSONField(default=dict, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)

    class Meta:
        # Two indexes only: every index slows the COPY ingest path.
        # - (name, timestamp): alert windows and charts always name one metric over a time range.
        # - (timestamp): retention purge (oldest first), rollup windows, and the raw API listing,
        #   which pages newest first and filters the rest (type, source, ...) on the way.
        indexes = [
            models.Index(fields=["name", "timestamp"], name="metric_name_time"),
            models.Index(fields=["timestamp"], name="metric_time"),
        ]

    def __str__(self) -> str:
        return f"{self.name}={self.value:g}{self.unit} @ {self.timestamp:%Y-%m-%d %H:%M:%S}"


class RollupValues(models.Model):
    """What a rollup row knows of its points: count, sum, minimum, maximum, and a quantile sketch
    (monitoring/sketch.py) that merges with other rows' sketches, so any percentile over any
    set of rows is within the sketch's accuracy of the exact one."""

    bucket_start = models.DateTimeField()
    count = models.PositiveBigIntegerField()
    total = models.FloatField(help_text="Sum of the values, so averages merge exactly.")
    minimum = models.FloatField()
    maximum = models.FloatField()
    sketch = models.BinaryField(default=b"", help_text="Point counts per logarithmic bin.")

    class Meta:
        abstract = True

    @property
    def average(self) -> float:
        return self.total / self.count if self.count else 0.0

    @property
    def p95(self) -> float | None:
        if not self.sketch:
            return None
        return sketch.quantiles(bytes(self.sketch), low=self.minimum, high=self.maximum)["p95"]


class Rollup(RollupValues):
    """Aggregates of one series (name, type, category, unit, source, endpoint) over one period.
    Tags are not part of a series: a query filtering on a tag reads raw points."""

    name = models.CharField(max_length=200)
    metric_type = models.CharField(max_length=20, choices=MetricType.choices)
    category = models.CharField(max_length=50)
    unit = models.CharField(max_length=20, blank=True, default="")
    source = models.CharField(max_length=100, blank=True, default="")
    endpoint = models.CharField(max_length=200, blank=True, default="")

    SERIES_FIELDS = ["name", "metric_type", "category", "unit", "source", "endpoint"]

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.name} {self.source} {self.bucket_start:%Y-%m-%d %H:%M} n={self.count}"


class MinuteRollup(Rollup):
    class Meta:
        # The unique key starts with name, bucket_start: it is also the index the charts use.
        constraints = [
            models.UniqueConstraint(
                fields=["name", "bucket_start", "metric_type", "category", "unit", "source", "endpoint"],
                name="minute_rollup_unique_series",
            )
        ]
        indexes = [models.Index(fields=["bucket_start"], name="minute_rollup_time")]  # purge


class HourRollup(Rollup):
    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["name", "bucket_start", "metric_type", "category", "unit", "source", "endpoint"],
                name="hour_rollup_unique_series",
            )
        ]
        indexes = [models.Index(fields=["bucket_start"], name="hour_rollup_time")]  # purge


class NameRollup(RollupValues):
    """All series of one metric name together over one period: the chart of a metric across
    every source reads one row per bucket here instead of merging a row per series."""

    name = models.CharField(max_length=200)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.name} (all series) {self.bucket_start:%Y-%m-%d %H:%M} n={self.count}"


class MinuteNameRollup(NameRollup):
    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "bucket_start"], name="minute_name_rollup_unique")
        ]
        indexes = [models.Index(fields=["bucket_start"], name="minute_name_rollup_time")]  # purge


class HourNameRollup(NameRollup):
    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "bucket_start"], name="hour_name_rollup_unique")
        ]
        indexes = [models.Index(fields=["bucket_start"], name="hour_name_rollup_time")]  # purge


class RollupCursor(models.Model):
    """Rollups of this resolution are complete for every bucket before `rolled_up_until`."""

    class Resolution(models.TextChoices):
        MINUTE = "minute", "Minute"
        HOUR = "hour", "Hour"

    resolution = models.CharField(max_length=10, choices=Resolution.choices, unique=True)
    rolled_up_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.resolution} rollups until {self.rolled_up_until:%Y-%m-%d %H:%M}"


class IngestKey(models.Model):
    """An ingest request's Idempotency-Key: a client that resends a batch after a lost answer gets
    the first answer again instead of a second copy of the points. Written in the transaction that
    writes the points, so a key exists exactly when its batch does; the unique key makes a resend
    that arrives while the first is still writing wait for it, then find it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    body_sha256 = models.CharField(max_length=64)
    written = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="ingest_key_unique_per_user")]
        indexes = [models.Index(fields=["created_at"], name="ingest_key_created")]  # purge

    def __str__(self) -> str:
        return self.key
