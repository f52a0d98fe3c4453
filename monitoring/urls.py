from django.urls import path

from monitoring import api

app_name = "monitoring"
urlpatterns = [
    path("api/operations/metrics", api.MetricIngestView.as_view(), name="ingest"),
    path(
        "api/operations/infrastructure/metrics",
        api.InfrastructureMetricsView.as_view(),
        name="infrastructure",
    ),
    path("api/operations/performance/metrics", api.PerformanceMetricsView.as_view(), name="performance"),
]
