from django.urls import path
from rest_framework.routers import SimpleRouter

from reports import api

router = SimpleRouter(trailing_slash=False)
router.register("slos", api.ObjectiveViewSet, basename="slo")
router.register("response-breaches", api.BreachViewSet, basename="response-breach")

urlpatterns = [
    *router.urls,
    path("reports/uptime", api.UptimeReportView.as_view(), name="reports-uptime"),
    path("reports/summary", api.ReportView.as_view(), name="reports-summary"),
]
