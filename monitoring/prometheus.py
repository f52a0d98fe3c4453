"""GET /metrics: Vigil's own state in the Prometheus text format.

COLLECTORS is an explicit list of callables, each returning metric families
(prometheus_client.core.*MetricFamily); other apps append theirs (alert and delivery counts)
by adding a line to the list below (no registration magic). A collector that raises is
logged and skipped, so one broken source never blanks the whole scrape.

Access: a request from an address in METRICS_ALLOWED_IPS (addresses or networks), or one with
"Authorization: Bearer <METRICS_TOKEN>", or a staff user's DRF token ("Token <key>").
"""

import hmac
import ipaddress
import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from alerts.metrics import alert_metrics
from healthchecks import checks
from healthchecks.services import heartbeat_ages
from monitoring.ingest import ingested_total
from monitoring.models import HourRollup, MinuteRollup
from monitoring.models import Metric as MetricRow
from notifications.metrics import delivery_metrics

logger = logging.getLogger(__name__)

HEALTH_LEVELS = (checks.OK, checks.DEGRADED, checks.DOWN)


def heartbeat_metrics() -> Iterable[Metric]:
    family = GaugeMetricFamily(
        "vigil_heartbeat_age_seconds", "Seconds since the freshest beat/worker heartbeat", labels=["kind"]
    )
    for kind, age in heartbeat_ages().items():
        if age is not None:
            family.add_metric([str(kind)], age)
    yield family


def queue_metrics() -> Iterable[Metric]:
    family = GaugeMetricFamily(
        "vigil_celery_queue_depth", "Messages waiting in the Celery queue", labels=["queue"]
    )
    family.add_metric(["celery"], checks.queue_depth())
    yield family


def _row_estimate(model) -> int:
    # An exact COUNT(*) over tens of millions of points takes seconds; the planner's estimate
    # is free and good enough for a gauge. SQLite (embedded, small) counts.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [model._meta.db_table]
            )
            row = cursor.fetchone()
        if row and row[0] >= 0:
            return int(row[0])
    return model.objects.count()


def metric_store_metrics() -> Iterable[Metric]:
    rows = GaugeMetricFamily(
        "vigil_metric_rows", "Rows in the metric tables (estimate on PostgreSQL)", labels=["table"]
    )
    for table, model in (("raw", MetricRow), ("minute_rollup", MinuteRollup), ("hour_rollup", HourRollup)):
        rows.add_metric([table], _row_estimate(model))
    yield rows
    yield CounterMetricFamily(
        "vigil_metric_points_ingested", "Points written through the ingest API", value=ingested_total()
    )


def health_metrics() -> Iterable[Metric]:
    results = checks.run_checks(
        {"database": checks.database, "cache": checks.cache_round_trip, "heartbeats": checks.heartbeats}
    )
    family = GaugeMetricFamily(
        "vigil_health_check_status",
        "1 for the current status of each health check",
        labels=["check", "status"],
    )
    for name, result in results.items():
        for level in HEALTH_LEVELS:
            family.add_metric([name, level], 1.0 if result.status == level else 0.0)
    yield family


COLLECTORS: list[Callable[[], Iterable[Metric]]] = [
    heartbeat_metrics,
    queue_metrics,
    metric_store_metrics,
    health_metrics,
    alert_metrics,
    delivery_metrics,
]


class _VigilCollector(Collector):
    def collect(self) -> Iterable[Metric]:
        for collector in COLLECTORS:
            try:
                yield from list(collector())
            except Exception as exc:
                logger.warning("prometheus collector %s failed: %s", collector.__name__, exc)


def exposition() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_VigilCollector())
    return generate_latest(registry)


def _ip_allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_IPS)


def _token_allowed(header: str) -> bool:
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if not credential:
        return False
    if scheme == "Bearer" and settings.METRICS_TOKEN:
        return hmac.compare_digest(credential.encode(), settings.METRICS_TOKEN.encode())
    if scheme == "Token":
        from rest_framework.authtoken.models import Token

        token = Token.objects.select_related("user").filter(key=credential).first()
        return bool(token and token.user.is_active and token.user.is_staff)
    return False


@never_cache
@require_GET
def metrics_view(request):
    if not (
        _ip_allowed(request.META.get("REMOTE_ADDR", ""))
        or _token_allowed(request.META.get("HTTP_AUTHORIZATION", ""))
    ):
        response = HttpResponse(
            "Forbidden: token or allowed address required.\n", status=403, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="vigil-metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
