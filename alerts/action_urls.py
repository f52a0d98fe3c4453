from django.urls import path

from alerts import action_views, slack

app_name = "alert_actions"

urlpatterns = [
    path("alerts/act/<int:alert_id>/<slug:action>/<str:token>", action_views.alert_action, name="act"),
    path("integrations/slack/interactivity", slack.slack_interactivity, name="slack-interactivity"),
]
