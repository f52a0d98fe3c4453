"""The secret iCalendar feeds. Calendar apps cannot log in: the token in the URL is the key, and
anything that does not name a current feed of an active person with the right to read schedules
is 404 (never a hint that the token once existed)."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from core.views import read_only
from oncall.calendar import feed_window, shifts_calendar
from oncall.models import Schedule
from oncall.queries import calendar_feed_owner, schedule_timelines, user_names

CAN_READ = "oncall.view_schedule"


def _owner(token: str):
    user = calendar_feed_owner(token)
    if user is None or not user.has_perm(CAN_READ):
        raise Http404("No such calendar.")
    return user


def _calendar(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    # The URL is the secret: keep the answer out of shared caches and search engines.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@read_only
def user_calendar(request, token: str):
    """Every shift of the token's owner, in every schedule."""
    user = _owner(token)
    start, end = feed_window()
    schedules = {schedule.pk: schedule for schedule in Schedule.objects.all()}
    timelines = schedule_timelines(schedules.values(), start=start, end=end)
    name = user.get_username()
    own = [(schedules[pk], s) for pk, shifts in timelines.items() for s in shifts if s.user_id == user.pk]
    return _calendar(shifts_calendar(f"On call: {name}", own, {user.pk: name}))


@read_only
def schedule_calendar(request, token: str, pk: int):
    """Every shift of one schedule, whoever is on call."""
    _owner(token)
    schedule = get_object_or_404(Schedule, pk=pk)
    start, end = feed_window()
    shifts = schedule_timelines([schedule], start=start, end=end)[schedule.pk]
    names = user_names(shift.user_id for shift in shifts)
    return _calendar(shifts_calendar(f"On call: {schedule.name}", [(schedule, s) for s in shifts], names))


def calendar_urls(request, token: str) -> dict[str, str]:
    """The feed URLs of a token: the person's own shifts, and (with a schedule id for {id}) every
    shift of one schedule."""
    own = request.build_absolute_uri(reverse("oncall:user-calendar", args=[token]))
    schedule = request.build_absolute_uri(reverse("oncall:schedule-calendar", args=[token, 0]))
    return {"url": own, "schedule_url_template": schedule.replace("/schedules/0.ics", "/schedules/{id}.ics")}
