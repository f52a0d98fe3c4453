import io

import pytest
from django.conf import settings
from django.core.management import call_command

from config import retention, tasks

pytestmark = pytest.mark.django_db


def test_it_runs_the_purge_task_and_schedules_it():
    assert tasks.purge_old_data().startswith("purged ")
    assert settings.CELERY_BEAT_SCHEDULE["purge_old_data"]["task"] == "config.tasks.purge_old_data"


def test_it_runs_every_purge_function_listed(monkeypatch):
    calls = []
    extra = lambda now: calls.append(now) or {"x": 3}  # noqa: E731
    monkeypatch.setattr(retention, "PURGERS", [*retention.PURGERS, extra])
    out = io.StringIO()
    call_command("purge_old_data", stdout=out)
    assert len(calls) == 1 and "purged 3 x" in out.getvalue()
