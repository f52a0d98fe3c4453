"""Operations API for metrics: ingest and the two query endpoints.

Which types each query endpoint covers:
- /api/operations/infrastructure/metrics: the machines and services under the application:
  system, network, database.
- /api/operations/performance/metrics: how the application and the business behave:
  performance, application, business.
"""

import re
from datetime import timedelta

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_response
from core.filters import UTCDateTimeFilter
from core.parsers import JSONBodyError, JSONParser, json_loads
from monitoring.ingest import (
    MAX_POINTS,
    BatchInvalid,
    Idempotency,
    IdempotencyKeyReused,
    ingest_key_answer,
    ingest_key_problem,
    metric_points_write,
    points_quick,
    points_validate,
)
from monitoring.models import Metric, MetricType
from monitoring.queries import INTERVALS, SeriesFilter, metric_buckets, tag_q

TAG = re.compile(r"^([A-Za-z0-9_.\-]{1,50}):(.{0,200})$")
DEFAULT_BUCKET_RANGE = timedelta(hours=24)


class MetricIngestView(APIView):
    """POST one point, a list of points, or {"points": [...]} (at most 10,000)."""

    parser_classes = [JSONParser]

    def post(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response("Content-Length must be a number.", status.HTTP_400_BAD_REQUEST)
        if length > settings.METRICS_INGEST_MAX_BYTES:
            return error_response(
                f"Request body is larger than {settings.METRICS_INGEST_MAX_BYTES} bytes.",
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        key = request.headers.get("Idempotency-Key")
        # The common case, a good batch without a key, is decoded and checked in one pass; every
        # other body takes the parser and the full validation, which word the errors.
        body = request.stream.read() if length and _plain_json(request) else None
        points = points_quick(body) if body is not None and key is None else None
        if points is None:
            payload = request.data if body is None else _parsed(body)
            batch = payload["points"] if isinstance(payload, dict) and "points" in payload else payload
            count = len(batch) if isinstance(batch, list) else 1
        else:
            count = len(points)
        if count > MAX_POINTS:
            return error_response(
                f"A batch holds at most {MAX_POINTS} points; this one has {count}. Split it.",
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        idempotency = None
        if key is not None:
            problem = ingest_key_problem(key)
            if problem:
                return error_response(problem, status.HTTP_400_BAD_REQUEST)
            idempotency = Idempotency.of(user_id=request.user.pk, key=key, payload=payload)
        try:
            # A resend is answered from its key before validation: the same answer even if the
            # points would no longer pass (older than the retention by now, say).
            result = ingest_key_answer(idempotency) if idempotency else None
            if result is None:
                if points is None:
                    points = points_validate(payload)
                result = metric_points_write(points=points, idempotency=idempotency)
        except BatchInvalid as exc:
            return error_response(
                "Invalid input: nothing was written.", status.HTTP_400_BAD_REQUEST, errors=exc.errors
            )
        except IdempotencyKeyReused as exc:
            return error_response(str(exc), status.HTTP_422_UNPROCESSABLE_ENTITY)
        response = Response({"written": result.written}, status=status.HTTP_201_CREATED)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


def _plain_json(request) -> bool:
    """A body the JSON parser would read as UTF-8 JSON (anything else is left to the parser,
    which answers an unsupported type or charset as it always has)."""
    media_type, _, parameters = request.content_type.partition(";")
    charset = parameters.strip().lower()
    return media_type.strip().lower() == "application/json" and charset in ("", "charset=utf-8")


def _parsed(body: bytes):
    """The body read as the API's JSON parser reads it, with its errors."""
    try:
        return json_loads(body)
    except JSONBodyError as exc:
        raise ParseError(str(exc)) from None


def _validate_tag(value: str) -> None:
    if not TAG.match(value):
        raise DjangoValidationError("Use key:value (key: letters, digits, _ . -; at most 50 characters).")


class MetricFilterSet(django_filters.FilterSet):
    TYPES: tuple[str, ...] = ()

    name = django_filters.CharFilter()
    category = django_filters.CharFilter()
    source = django_filters.CharFilter()
    endpoint = django_filters.CharFilter()
    tag = django_filters.CharFilter(method="filter_tag", validators=[_validate_tag])
    since = UTCDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = UTCDateTimeFilter(field_name="timestamp", lookup_expr="lte")

    class Meta:
        model = Metric
        fields = ["name", "category", "source", "endpoint"]

    def filter_tag(self, queryset, name, value):
        key, tag_value = TAG.match(value).groups()
        return queryset.filter(tag_q(key, tag_value))

    def series(self) -> SeriesFilter:
        data = self.form.cleaned_data
        tag = TAG.match(data["tag"]).groups() if data.get("tag") else None
        return SeriesFilter(
            name=data.get("name") or "",
            metric_types=tuple(data.get("type") or self.TYPES),
            category=data.get("category") or "",
            source=data.get("source") or "",
            endpoint=data.get("endpoint") or "",
            tag=tag,
        )


def _type_filter(types: tuple[MetricType, ...]) -> django_filters.MultipleChoiceFilter:
    return django_filters.MultipleChoiceFilter(
        field_name="metric_type", choices=[(t.value, t.label) for t in types]
    )


class InfrastructureFilterSet(MetricFilterSet):
    TYPES = (MetricType.SYSTEM, MetricType.NETWORK, MetricType.DATABASE)
    type = _type_filter(TYPES)


class PerformanceFilterSet(MetricFilterSet):
    TYPES = (MetricType.PERFORMANCE, MetricType.APPLICATION, MetricType.BUSINESS)
    type = _type_filter(TYPES)


class MetricSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="metric_type")

    class Meta:
        model = Metric
        fields = [
            "id",
            "name",
            "type",
            "category",
            "value",
            "unit",
            "source",
            "endpoint",
            "tags",
            "timestamp",
        ]


class NewestFirst(CursorPagination):
    # A cursor, not page numbers: COUNT(*) over millions of points on every page is too slow.
    ordering = "-timestamp"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class MetricQueryView(generics.ListAPIView):
    """Raw points (newest first, cursor-paginated), or with ?interval=1m|5m|1h|1d buckets
    (count, avg, min, max, p50, p90, p95, p99) over [since, until] (default: the last 24 h)."""

    serializer_class = MetricSerializer
    pagination_class = NewestFirst
    filterset_class: type[MetricFilterSet] = MetricFilterSet

    def get_queryset(self):
        return Metric.objects.filter(metric_type__in=self.filterset_class.TYPES)

    def list(self, request, *args, **kwargs):
        interval = request.query_params.get("interval")
        if interval is None:
            return super().list(request, *args, **kwargs)
        if interval not in INTERVALS:
            raise ValidationError({"interval": [f"Use one of {', '.join(INTERVALS)}."]})
        filterset = self.filterset_class(request.query_params, queryset=self.get_queryset(), request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        data = filterset.form.cleaned_data
        until = data.get("until") or timezone.now()
        since = data.get("since") or until - DEFAULT_BUCKET_RANGE
        if since >= until:
            raise ValidationError({"since": ["Must be before until."]})
        try:
            result = metric_buckets(filterset.series(), since=since, until=until, interval=interval)
        except ValueError as exc:
            raise ValidationError({"interval": [str(exc)]}) from None
        return Response(
            {
                "interval": result.interval,
                "since": result.since,
                "until": result.until,
                "buckets": [bucket.as_dict() for bucket in result.buckets],
                "from_rollups": result.rollup_buckets,
                "from_raw": result.raw_buckets,
            }
        )


class InfrastructureMetricsView(MetricQueryView):
    filterset_class = InfrastructureFilterSet


class PerformanceMetricsView(MetricQueryView):
    filterset_class = PerformanceFilterSet
