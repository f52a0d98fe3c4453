from django.urls import path
from rest_framework.routers import SimpleRouter

from reports import api, settings_api

router = SimpleRouter(trailing_slash=False)
router.register("slos", api.ObjectiveViewSet, basename="slo")
router.register("response-breaches", api.BreachViewSet, basename="response-breach")
router.register("response-targets", settings_api.ResponseTargetViewSet, basename="response-target")
router.register("business-calendars", settings_api.BusinessCalendarViewSet, basename="business-calendar")
router.register("report-schedules", settings_api.ReportScheduleViewSet, basename="report-schedule")

urlpatterns = [
    *router.urls,
    path("reports/uptime", api.UptimeReportView.as_view(), name="reports-uptime"),
    path("reports/summary", api.ReportView.as_view(), name="reports-summary"),
]
