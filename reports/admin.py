from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from reports.builder import report_components, uptime_rows
from reports.chart import svg_bars
from reports.models import (
    BusinessCalendar,
    Report,
    ReportRun,
    ResponseBreach,
    ResponseTarget,
    ServiceLevelObjective,
)
from reports.params import QueryError, csv_filename, parse_query, uptime_csv
from reports.services import last_complete_period, report_send
from reports.slo import slo_status


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "weekdays", "opens_at", "closes_at"]
    search_fields = ["name"]


@admin.register(ServiceLevelObjective)
class ServiceLevelObjectiveAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "component",
        "group",
        "target_percent",
        "window",
        "attained",
        "budget_left",
        "burn_1h",
        "burn_6h",
        "burn_alerts",
    ]
    list_filter = ["window", "burn_alerts", "severity"]
    search_fields = ["name", "component__name", "group__name"]
    list_select_related = ["component", "group"]
    readonly_fields = ["last_evaluated_at", "status_now"]
    # The status columns replay hours of history per row: a page of 25 stays quick.
    list_per_page = 25

    def _status(self, slo: ServiceLevelObjective) -> dict:
        # Computed once per row of the page, shared by the columns below.
        if not hasattr(slo, "_status_now"):
            slo._status_now = slo_status(slo)
        return slo._status_now

    @admin.display(description="attained %")
    def attained(self, slo):
        value = self._status(slo)["attained_percentage"]
        return "–" if value is None else f"{value:.3f}"

    @admin.display(description="error budget left")
    def budget_left(self, slo):
        value = self._status(slo)["error_budget_remaining_percentage"]
        return "–" if value is None else f"{value:.1f} %"

    @admin.display(description="burn rate 1 h")
    def burn_1h(self, slo):
        return self._burn(slo, "1h")

    @admin.display(description="burn rate 6 h")
    def burn_6h(self, slo):
        return self._burn(slo, "6h")

    def _burn(self, slo, name: str) -> str:
        rates = self._status(slo)["burn_rates"][name]
        if rates["burn_rate"] is None:
            return "–"
        text = f"{rates['burn_rate']:g}× (alert at {rates['threshold']:g}×)"
        return format_html("<strong>{}</strong>", text) if name in self._status(slo)["fast_burn"] else text

    @admin.display(description="status now")
    def status_now(self, slo):
        if not slo.pk:
            return "–"
        status = slo_status(slo)
        return (
            f"attained {status['attained_percentage']} % since {status['window_start']}; "
            f"budget {status['error_budget_seconds'] / 60:.1f} min, spent "
            f"{status['error_budget_spent_seconds'] / 60:.1f} min "
            f"({status['error_budget_remaining_percentage']} % left)"
        )


@admin.register(ResponseTarget)
class ResponseTargetAdmin(admin.ModelAdmin):
    list_display = ["severity", "acknowledge_minutes", "resolve_minutes", "calendar"]
    list_select_related = ["calendar"]


@admin.register(ResponseBreach)
class ResponseBreachAdmin(admin.ModelAdmin):
    list_display = ["alert", "kind", "severity", "target_minutes", "business_hours", "due_at", "answered_at"]
    list_filter = ["kind", "severity"]
    list_select_related = ["alert"]
    search_fields = ["alert__title"]
    date_hierarchy = "due_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReportRunInline(admin.TabularInline):
    model = ReportRun
    extra = 0
    fields = ["period_start", "period_end", "message", "created_at"]
    readonly_fields = fields
    can_delete = False
    ordering = ["-period_start"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["name", "frequency", "enabled", "recipient_count", "last_sent"]
    list_filter = ["frequency", "enabled"]
    search_fields = ["name", "recipients"]
    filter_horizontal = ["components"]
    inlines = [ReportRunInline]
    actions = ["send_last_period"]
    change_list_template = "admin/reports/report/change_list.html"

    @admin.display(description="recipients")
    def recipient_count(self, report):
        return len(report.recipient_list())

    @admin.display(description="last period sent")
    def last_sent(self, report):
        run = report.runs.order_by("-period_start").first()
        return f"{run.period_start} – {run.period_end}" if run else "–"

    @admin.action(description="Send the last complete period now (once per period)", permissions=["change"])
    def send_last_period(self, request, queryset):
        sent = skipped = 0
        for report in queryset:
            period = last_complete_period(report.frequency, timezone.now())
            if report_send(report=report, period=period) is None:
                skipped += 1
            else:
                sent += 1
        self.message_user(
            request, f"{sent} reports sent, {skipped} already sent for that period.", messages.INFO
        )

    def get_urls(self):
        return [
            path(
                "uptime-export/",
                self.admin_site.admin_view(self.uptime_export),
                name="reports_uptime_export",
            ),
            *super().get_urls(),
        ]

    def uptime_export(self, request):
        """The uptime API's export as a page (with a chart), CSV or JSON: the same figures."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        if not request.user.has_perm("statuspage.view_component"):
            raise PermissionDenied
        try:
            period, fmt, ids = parse_query(request.GET, timezone.now(), formats=("html", "csv", "json"))
        except QueryError as exc:
            context = {
                **self.admin_site.each_context(request),
                "title": "Uptime export",
                "errors": exc.errors,
            }
            return TemplateResponse(request, "admin/reports/uptime_export.html", context, status=400)
        data = uptime_rows(period, report_components(ids))
        if fmt == "csv":
            response = HttpResponse(uptime_csv(data), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{csv_filename(data)}"'
            return response
        if fmt == "json":
            return JsonResponse(data)
        chart = svg_bars(
            [d["downtime_minutes"] for d in data["daily"]],
            [d["date"] for d in data["daily"]],
            title=f"Downtime minutes per day, {data['from']} to {data['to']}",
        )
        query = request.GET.copy()
        context = {
            **self.admin_site.each_context(request),
            "title": "Uptime export",
            "data": data,
            "chart": chart,
            "export_url": reverse("admin:reports_uptime_export"),
            "query": {k: v for k, v in query.items() if k != "format"},
            "csv_query": _with(query, "csv"),
            "json_query": _with(query, "json"),
        }
        return TemplateResponse(request, "admin/reports/uptime_export.html", context)


def _with(query, fmt: str) -> str:
    query = query.copy()
    query["format"] = fmt
    return query.urlencode()


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    list_display = ["report", "period_start", "period_end", "message", "created_at"]
    list_filter = ["report"]
    list_select_related = ["report", "message"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
