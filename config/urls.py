from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Vigil operations"
admin.site.site_title = "Vigil"
admin.site.index_title = "Operations console"

urlpatterns = [
    path("", include("healthchecks.urls")),
    path("", include("monitoring.urls")),
    path("api/operations/", include("alerts.urls")),
    path("api/operations/", include("healthchecks.api_urls")),
    path("", include("config.console_urls")),
    path("admin/", admin.site.urls),
    path("", include("statuspage.urls")),
    path("", include("statuspage.subscriber_urls")),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
