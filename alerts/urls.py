from django.urls import path
from rest_framework.routers import SimpleRouter

from alerts import api

router = SimpleRouter(trailing_slash=False)
router.register("alerts", api.AlertViewSet, basename="alert")
router.register("alert-rules", api.AlertRuleViewSet, basename="alert-rule")
router.register("silences", api.SilenceViewSet, basename="silence")

urlpatterns = [
    *router.urls,
    path("integrations/alertmanager", api.alertmanager_webhook, name="alertmanager-webhook"),
]
