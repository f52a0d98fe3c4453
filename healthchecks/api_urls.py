from django.urls import path
from rest_framework.routers import SimpleRouter

from healthchecks import api
from healthchecks.agents import api as agents_api
from healthchecks.pings import api as pings_api

router = SimpleRouter(trailing_slash=False)
router.register("probes", api.ProbeViewSet, basename="probe")
router.register("checks", pings_api.CheckViewSet, basename="check")
router.register("probe-locations", agents_api.ProbeLocationViewSet, basename="probe-location")
router.register("agent-keys", agents_api.AgentKeyViewSet, basename="agent-key")
router.register("component-quorums", agents_api.ComponentQuorumViewSet, basename="component-quorum")
router.register("check-projects", pings_api.CheckProjectViewSet, basename="check-project")

urlpatterns = [
    *router.urls,
    path("system/status", api.system_status, name="system-status"),
    path("system/health/<str:service>", api.service_health, name="system-health"),
]
