from django.urls import path, re_path

from healthchecks.pings import views

app_name = "pings"
ACTION = r"(?P<action>start|fail|log|[0-9]{1,3})"
urlpatterns = [
    path("ping/<uuid:key>", views.ping_by_key, name="ping"),
    re_path(
        rf"^ping/(?P<key>[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}})/{ACTION}$",
        views.ping_by_key,
        name="ping-action",
    ),
    path("ping/<str:project_key>/<slug:slug>", views.ping_by_slug, name="ping-slug"),
    re_path(
        rf"^ping/(?P<project_key>[\w-]+)/(?P<slug>[-\w]+)/{ACTION}$",
        views.ping_by_slug,
        name="ping-slug-action",
    ),
]
