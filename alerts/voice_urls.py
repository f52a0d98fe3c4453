from django.urls import path

from alerts import voice

urlpatterns = [
    path(
        "integrations/twilio/voice/<int:alert_id>/<int:token>/<int:channel_id>",
        voice.voice_acknowledge,
        name="alert-voice-acknowledge",
    ),
]
