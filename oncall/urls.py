from django.urls import path
from rest_framework.routers import SimpleRouter

from oncall import api, people_api, policies_api

router = SimpleRouter(trailing_slash=False)
router.register("oncall/schedules", api.ScheduleViewSet, basename="schedule")
router.register(
    "oncall/escalation-policies", policies_api.EscalationPolicyViewSet, basename="escalation-policy"
)
router.register("users/me/contact-methods", people_api.MyContactMethodViewSet, basename="my-contact-method")

urlpatterns = [
    path("oncall", api.OnCallView.as_view(), name="oncall"),
    path("oncall/calendar-feed", api.CalendarFeedView.as_view(), name="oncall-calendar-feed"),
    path(
        "users/me/notification-rules",
        people_api.MyNotificationRulesView.as_view(),
        name="my-notification-rules",
    ),
    *router.urls,
]
