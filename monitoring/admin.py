from django.contrib import admin

from core.pagination import CheapPaginator
from monitoring.models import HourNameRollup, HourRollup, Metric, MinuteNameRollup, MinuteRollup, RollupCursor


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Metric)
class MetricAdmin(ReadOnlyAdmin):
    list_display = ["timestamp", "name", "value", "unit", "metric_type", "category", "source", "endpoint"]
    list_filter = ["metric_type", "category"]
    search_fields = ["=name", "=source"]
    # No second COUNT(*) of the whole table per page view: it holds millions of rows.
    show_full_result_count = False
    paginator = CheapPaginator  # and no full COUNT(*) for the page links either
    ordering = ["-timestamp"]


@admin.register(MinuteRollup, HourRollup)
class RollupAdmin(ReadOnlyAdmin):
    list_display = ["bucket_start", "name", "source", "endpoint", "count", "minimum", "maximum", "p95"]
    list_filter = ["metric_type"]
    search_fields = ["=name"]
    show_full_result_count = False
    paginator = CheapPaginator
    ordering = ["-bucket_start"]


@admin.register(MinuteNameRollup, HourNameRollup)
class NameRollupAdmin(ReadOnlyAdmin):
    list_display = ["bucket_start", "name", "count", "minimum", "maximum", "p95"]
    search_fields = ["=name"]
    show_full_result_count = False
    paginator = CheapPaginator
    ordering = ["-bucket_start"]


@admin.register(RollupCursor)
class RollupCursorAdmin(ReadOnlyAdmin):
    list_display = ["resolution", "rolled_up_until"]
