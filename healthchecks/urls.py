from django.urls import path

from healthchecks import views

app_name = "health"
urlpatterns = [
    path("health", views.overall, name="overall"),
    path("health/live", views.live, name="live"),
    path("health/ready", views.ready, name="ready"),
    path("health/database", views.database, name="database"),
    path("health/system", views.system, name="system"),
    path("health/detailed", views.detailed, name="detailed"),
]
