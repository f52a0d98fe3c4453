from django.contrib import admin
from django.urls import include, path

from config import prometheus
from config.login_throttle import admin_login
from config.sso import views as sso_views

# With DEBUG=0: the API's error shape for API paths, the site's own pages elsewhere.
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"

admin.site.site_header = "Vigil operations"
admin.site.site_title = "Vigil"
admin.site.index_title = "Operations console"

urlpatterns = [
    path("", include("healthchecks.urls")),
    path("", include("healthchecks.pings.urls")),
    path("", include("monitoring.urls")),
    path("metrics", prometheus.metrics_view, name="prometheus"),
    path("api/operations/", include("alerts.urls")),
    path("", include("alerts.voice_urls")),
    path("api/operations/", include("healthchecks.api_urls")),
    path("api/agent/", include("healthchecks.agents.urls")),
    path("api/operations/", include("oncall.urls")),
    path("api/operations/", include("notifications.api_urls")),
    path("api/operations/", include("backups.urls")),
    path("api/operations/", include("reports.urls")),
    path("", include("oncall.feed_urls")),
    path("", include("config.console_urls")),
    path("", include("alerts.action_urls")),
    # Before the admin's own URLs: its login, with failed attempts counted and limited.
    path("admin/login/", admin_login),
    # Before the admin's own too: ends a single sign-on session at the provider as well.
    path("admin/logout/", sso_views.sso_logout),
    path("sso/login", sso_views.sso_login, name="sso-login"),
    path("sso/callback", sso_views.sso_callback, name="sso-callback"),
    # The login's second step and each user's two-factor devices (config/mfa/).
    path("", include("config.mfa.urls")),
    path("admin/", admin.site.urls),
    path("", include("statuspage.urls")),
    path("", include("statuspage.subscriber_urls")),
]
