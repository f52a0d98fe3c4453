"""GET /metrics: Vigil's own state in the Prometheus text format.

COLLECTORS is the explicit list of every app's collector (each a callable returning metric
families, prometheus_client.core.*MetricFamily), composed here at the top of the layering, where
every app may be seen. A collector that raises is logged and skipped, so one broken source never
blanks the whole scrape.

Access: a request from an address in METRICS_ALLOWED_IPS (addresses or networks), or one with
"Authorization: Bearer <METRICS_TOKEN>", or a staff user's API key with the `read` scope or
legacy DRF token (as "Bearer <key>" or "Token <key>").
"""

import hmac
import ipaddress
import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry
from rest_framework.exceptions import AuthenticationFailed

from alerts.metrics import alert_metrics
from config import api_keys
from config.authentication import credential_user
from core.views import read_only
from healthchecks.metrics import health_metrics, heartbeat_metrics, queue_metrics
from monitoring.metrics import metric_store_metrics
from notifications.metrics import delivery_metrics

logger = logging.getLogger(__name__)


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
    # Scrapers write the scheme as they like: it is case-insensitive (RFC 7235, section 2.1).
    scheme, credential = scheme.lower(), credential.strip()
    if not credential:
        return False
    if scheme not in ("bearer", "token"):
        return False
    metrics_token = scheme == "bearer" and settings.METRICS_TOKEN
    if metrics_token and hmac.compare_digest(credential.encode(), settings.METRICS_TOKEN.encode()):
        return True
    try:
        user, auth = credential_user(credential, address=None)
    except AuthenticationFailed:
        return False
    scopes = api_keys.scopes_of(auth)
    return user.is_staff and (scopes is None or api_keys.READ in scopes)


@never_cache
@read_only
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
