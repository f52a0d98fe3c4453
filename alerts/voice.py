"""Twilio's callback when someone called by a voice channel presses a key.

The call's TwiML (notifications.telephony.voice_twiml) gathers one digit and posts it here, to a
URL naming the alert, the escalation token the alert had when the call was made, and the voice
channel. The request is Twilio's only if its X-Twilio-Signature is right for the channel's auth
token and the URL as Twilio requested it (PUBLIC_URL + the path: behind a proxy the host this
process sees may differ). Pressing 1 acknowledges through alerts.services.alert_acknowledge,
under the alert's row lock and only while its token is still the call's: acknowledging turns the
token over, so a replayed request (the same CallSid again, or anyone else's copy of it) and a
call answered after the alert escalated, was acknowledged or resolved change nothing.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from alerts.models import Alert, AlertEvent
from alerts.services import AlertTransitionError, alert_acknowledge
from core.text import clean_line
from notifications.models import Channel


def _twiml(said: str) -> HttpResponse:
    response = VoiceResponse()
    response.say(said)
    response.hangup()
    return HttpResponse(str(response), content_type="text/xml")


def _signed_by(channel: Channel | None, request: HttpRequest) -> bool:
    if channel is None or not channel.token:
        return False
    url = settings.PUBLIC_URL + request.get_full_path()
    signature = request.headers.get("X-Twilio-Signature", "")
    return RequestValidator(channel.token).validate(url, request.POST.dict(), signature)


# Twilio signs with the channel's auth token: no session, no CSRF token (it has neither).
@csrf_exempt
@require_POST
def voice_acknowledge(request: HttpRequest, alert_id: int, token: int, channel_id: int) -> HttpResponse:
    channel = Channel.objects.filter(pk=channel_id, kind=Channel.Kind.VOICE).first()
    if not _signed_by(channel, request):
        return HttpResponse(
            "Not a request signed by Twilio for this channel.", status=403, content_type="text/plain"
        )
    if request.POST.get("Digits") != "1":
        return _twiml("Nothing was changed. Goodbye.")
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None:
        return _twiml("This alert no longer exists. Goodbye.")
    number = clean_line(request.POST.get("To", ""))[:32] or "an unknown number"
    call = clean_line(request.POST.get("CallSid", ""))[:64]
    note = f"Pressed 1 on a voice call to {number} from channel {channel.name!r}" + (
        f" (call {call})" if call else ""
    )
    try:
        alert_acknowledge(alert=alert, note=note, actor_type=AlertEvent.Actor.CHANNEL, if_token=token)
    except AlertTransitionError:
        return _twiml(
            "Nothing was changed: the alert was already acknowledged, or changed since this call. Goodbye."
        )
    return _twiml("The alert is acknowledged. Goodbye.")
