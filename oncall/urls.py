from django.urls import path
from rest_framework.routers import SimpleRouter

from oncall import api

router = SimpleRouter(trailing_slash=False)
router.register("oncall/schedules", api.ScheduleViewSet, basename="schedule")

urlpatterns = [
    path("oncall", api.OnCallView.as_view(), name="oncall"),
    path("oncall/calendar-feed", api.CalendarFeedView.as_view(), name="oncall-calendar-feed"),
    *router.urls,
]
