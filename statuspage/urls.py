from django.urls import path

from statuspage import api, badges, branding, calendar, feeds, language, live, public_api, report_views, views

app_name = "statuspage"

urlpatterns = [
    # Public pages
    path("", views.home, name="home"),
    path("incidents/<int:pk>", views.incident_detail, name="incident"),
    path("maintenance/<int:pk>", views.maintenance_detail, name="maintenance"),
    path("history", views.history, name="history"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("robots.txt", views.robots, name="robots"),
    path("language", language.choose_language, name="language"),
    # A visitor's "having trouble" report (the home page's form) and its thank-you page
    path("report-trouble", report_views.report_trouble, name="report-trouble"),
    path("report-received", report_views.report_thanks, name="report-thanks"),
    path("branding/<str:name>", branding.branding_file, name="branding-file"),
    path("feeds/history.rss", feeds.rss, name="feed-rss"),
    path("feeds/history.atom", feeds.atom, name="feed-atom"),
    path("feeds/maintenance.ics", calendar.maintenance_feed, name="feed-maintenance"),
    path(
        "feeds/components/<int:pk>/maintenance.ics",
        calendar.component_maintenance_feed,
        name="feed-component-maintenance",
    ),
    # Badges and the embeddable widget
    path("badge/status.svg", badges.overall_badge, name="badge-status"),
    path("widget.js", badges.widget_script, name="widget"),
    path(
        "badge/components/<int:pk>/status.svg", badges.component_status_badge, name="badge-component-status"
    ),
    path(
        "badge/components/<int:pk>/uptime.svg", badges.component_uptime_badge, name="badge-component-uptime"
    ),
    # Statuspage-compatible v2 read API
    path("api/v2/summary.json", public_api.summary, name="v2-summary"),
    path("api/v2/status.json", public_api.status, name="v2-status"),
    path("api/v2/components.json", public_api.components, name="v2-components"),
    path("api/v2/incidents.json", public_api.incidents, name="v2-incidents"),
    path("api/v2/incidents/unresolved.json", public_api.incidents_unresolved, name="v2-incidents-unresolved"),
    path("api/v2/scheduled-maintenances.json", public_api.maintenance_all, name="v2-maintenance"),
    path(
        "api/v2/scheduled-maintenances/upcoming.json",
        public_api.maintenance_upcoming,
        name="v2-maintenance-upcoming",
    ),
    path(
        "api/v2/scheduled-maintenances/active.json",
        public_api.maintenance_active,
        name="v2-maintenance-active",
    ),
    # Vigil's public paths (DESIGN.md)
    path("api/status", public_api.status_overview, name="api-status"),
    path("api/status/live", live.live, name="api-live"),
    path("api/status/stream", live.stream, name="api-stream"),
    path("api/status/incidents", public_api.incident_list, name="api-incidents"),
    path("api/status/incidents/<int:pk>", public_api.incident_detail, name="api-incident"),
    path("api/status/components/<int:pk>/uptime", public_api.component_uptime, name="api-uptime"),
    # Staff
    path("api/status/admin/branding", api.BrandingView.as_view(), name="admin-branding"),
    path("api/status/admin/components", api.ComponentListCreate.as_view(), name="admin-components"),
    path(
        "api/status/admin/components/<int:pk>/status",
        api.ComponentStatusUpdate.as_view(),
        name="admin-component-status",
    ),
    path("api/status/admin/incidents", api.IncidentCreate.as_view(), name="admin-incidents"),
    path("api/status/admin/incidents/<int:pk>", api.IncidentUpdate.as_view(), name="admin-incident"),
    path(
        "api/status/admin/incident-templates",
        api.IncidentTemplateListCreate.as_view(),
        name="admin-incident-templates",
    ),
    path(
        "api/status/admin/incident-templates/<int:pk>",
        api.IncidentTemplateDetail.as_view(),
        name="admin-incident-template",
    ),
    path("api/status/admin/maintenance", api.MaintenanceCreate.as_view(), name="admin-maintenance"),
    path(
        "api/status/admin/maintenance/<int:pk>/start",
        api.MaintenanceStart.as_view(),
        name="admin-maintenance-start",
    ),
    path(
        "api/status/admin/maintenance/<int:pk>/complete",
        api.MaintenanceComplete.as_view(),
        name="admin-maintenance-complete",
    ),
    path(
        "api/status/admin/maintenance/<int:pk>/cancel",
        api.MaintenanceCancel.as_view(),
        name="admin-maintenance-cancel",
    ),
    path(
        "api/status/admin/maintenance-schedules",
        api.MaintenanceScheduleViewSet.as_view({"get": "list", "post": "create"}),
        name="admin-maintenance-schedules",
    ),
    path(
        "api/status/admin/maintenance-schedules/<int:pk>",
        api.MaintenanceScheduleViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        ),
        name="admin-maintenance-schedule",
    ),
]
