from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from config import api_docs, api_keys_api, console, ops_api
from config.configcode.api import ConfigApplyView

keys = SimpleRouter(trailing_slash=False)
keys.register("api/operations/api-keys", api_keys_api.ApiKeyViewSet, basename="api-key")

urlpatterns = [
    path("api/operations/dashboard", ops_api.DashboardView.as_view(), name="operations-dashboard"),
    path("api/operations/config", ops_api.OperationsConfigView.as_view(), name="operations-config"),
    path("api/operations/config/apply", ConfigApplyView.as_view(), name="operations-config-apply"),
    # The schema and its docs are public: they describe the API, they give no access to it.
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api-schema"),
    path(
        "api/docs/",
        # The split view serves its script from a URL (?script), so the page has no inline code.
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[AllowAny]),
        name="api-docs",
    ),
    # REDOC_DIST points here: Redoc's bundle without its request to another host (config/api_docs.py).
    path("api/redoc/dist/bundles/redoc.standalone.js", api_docs.redoc_bundle_view, name="api-redoc-bundle"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", permission_classes=[AllowAny]),
        name="api-redoc",
    ),
    path(
        "admin/console/alerts/<int:pk>/acknowledge",
        console.alert_acknowledge_view,
        name="console-alert-acknowledge",
    ),
    path("admin/console/alerts/<int:pk>/resolve", console.alert_resolve_view, name="console-alert-resolve"),
    path(
        "admin/console/incidents/<int:pk>/update",
        console.incident_update_view,
        name="console-incident-update",
    ),
    path(
        "admin/console/maintenance/<int:pk>/start",
        console.maintenance_start_view,
        name="console-maintenance-start",
    ),
    path(
        "admin/console/maintenance/<int:pk>/complete",
        console.maintenance_complete_view,
        name="console-maintenance-complete",
    ),
    *keys.urls,
]
