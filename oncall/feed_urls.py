from django.urls import path

from oncall import views

app_name = "oncall"
urlpatterns = [
    path("oncall/calendar/<str:token>.ics", views.user_calendar, name="user-calendar"),
    path(
        "oncall/calendar/<str:token>/schedules/<int:pk>.ics",
        views.schedule_calendar,
        name="schedule-calendar",
    ),
]
