from django.urls import path
from rest_framework.routers import SimpleRouter

from alerts import api, drills_api

router = SimpleRouter(trailing_slash=False)
router.register("alerts", api.AlertViewSet, basename="alert")
router.register("alert-rules", api.AlertRuleViewSet, basename="alert-rule")
router.register("silences", api.SilenceViewSet, basename="silence")
router.register("paging-drills", drills_api.PagingDrillViewSet, basename="paging-drill")

urlpatterns = [
    *router.urls,
    path("oncall/coverage", drills_api.OnCallCoverageView.as_view(), name="oncall-coverage"),
    path("integrations/alertmanager", api.alertmanager_webhook, name="alertmanager-webhook"),
]
