from datetime import date, time

from django.contrib.auth import get_user_model

from oncall.models import Schedule
from oncall.services import LayerSpec, OverrideSpec, schedule_save


def person(username: str):
    return get_user_model().objects.create_user(username, f"{username}@example.com", is_staff=True)


def schedule(name="Primary", time_zone="Europe/Berlin", layers=(), overrides=()) -> Schedule:
    """A schedule saved through the service; layers as LayerSpec keyword dicts."""
    return schedule_save(
        schedule=Schedule(name=name, time_zone=time_zone),
        layers=[LayerSpec(**layer) for layer in layers],
        overrides=[OverrideSpec(**override) for override in overrides],
    )


def daily_layer(*members, level=1, starts_on=date(2025, 3, 1), handoff=time(9), **extra) -> dict:
    return {
        "level": level,
        "members": list(members),
        "rotation": "daily",
        "starts_on": starts_on,
        "handoff_time": handoff,
        **extra,
    }
