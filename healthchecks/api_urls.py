from django.urls import path
from rest_framework.routers import SimpleRouter

from healthchecks import api

router = SimpleRouter(trailing_slash=False)
router.register("probes", api.ProbeViewSet, basename="probe")

urlpatterns = [
    *router.urls,
    path("system/status", api.system_status, name="system-status"),
    path("system/health/<str:service>", api.service_health, name="system-health"),
]
