import time
from importlib.metadata import PackageNotFoundError, version

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response

from core.infrastructure import database_details
from core.views import read_only
from healthchecks import checks
from healthchecks.checks import DEGRADED, DOWN, OK

PROCESS_STARTED = time.time()

READINESS = {
    "database": checks.database,
    "migrations": checks.migrations,
    "cache": checks.cache_round_trip,
    "broker": checks.broker,
}
# What /health weighs: the database is required to serve; the rest only degrades service.
# The broker is left to /health/ready: a dead broker shows here as a stale worker heartbeat.
OVERALL = {
    "database": checks.database,
    "cache": checks.cache_round_trip,
    "heartbeats": checks.heartbeats,
    "system": checks.system,
}
REQUIRED = {"database"}


def _overall(results: dict) -> str:
    if any(results[name].status == DOWN for name in REQUIRED if name in results):
        return DOWN
    if any(result.status != OK for result in results.values()):
        return DEGRADED
    return OK


def _body(status: str, results: dict) -> dict:
    return {
        "status": status,
        "checked_at": timezone.now().isoformat(),
        "failed": sorted(name for name, result in results.items() if result.status == DOWN),
        "checks": {name: result.as_dict() for name, result in results.items()},
    }


def _respond(status: str, results: dict) -> JsonResponse:
    return JsonResponse(_body(status, results), status=503 if status == DOWN else 200)


@never_cache
@read_only
def live(request):
    return JsonResponse({"status": OK})


@never_cache
@read_only
def ready(request):
    results = checks.run_checks(READINESS)
    return _respond(DOWN if any(r.status != OK for r in results.values()) else OK, results)


@never_cache
@read_only
def overall(request):
    results = checks.run_checks(OVERALL)
    return _respond(_overall(results), results)


@never_cache
@read_only
def database(request):
    results = checks.run_checks({"database": database_details})
    return _respond(results["database"].status, results)


@never_cache
@read_only
def system(request):
    results = checks.run_checks({"system": checks.system})
    return _respond(results["system"].status, results)


def _version() -> str:
    try:
        return version("vigil")
    except PackageNotFoundError:
        return "unknown"


@never_cache
@api_view(["GET"])
@permission_classes([IsAdminUser])
def detailed(request):
    results = checks.run_checks(
        {
            "database": database_details,
            "migrations": checks.migrations,
            "cache": checks.cache_round_trip,
            "broker": checks.broker,
            "heartbeats": checks.heartbeats,
            "system": checks.system,
            # Entries of apps above this one (the last verified backup), named in the settings.
            **{name: import_string(path) for name, path in settings.HEALTH_DETAILED_EXTRA_CHECKS.items()},
        }
    )
    status = _overall(results)
    body = _body(status, results)
    body.update(version=_version(), uptime_seconds=round(time.time() - PROCESS_STARTED, 1))
    return Response(body, status=503 if status == DOWN else 200)
