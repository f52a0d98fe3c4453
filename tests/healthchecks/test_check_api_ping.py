"""A job that holds an API key (scope checks:ping) reports through the API, with the same
states, durations and alerts as the ping URL; a key without the scope cannot."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from alerts.models import Alert
from config.api_keys import api_key_create
from healthchecks.pings.models import Check, Ping
from healthchecks.pings.services import check_create
from tests.config.factories import role_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def job():
    return check_create(name="nightly backup", period_seconds=3600, grace_seconds=600)


def keyed(*scopes: str) -> APIClient:
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.filter(username="administrator").first() or role_user("administrator")
    _, raw = api_key_create(user=admin, name="cron host", scopes=list(scopes))
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {raw}")


def url(check: Check) -> str:
    return f"/api/operations/checks/{check.pk}/ping"


def test_a_start_then_success_through_the_api_measures_the_run(job):
    api = keyed("checks:ping")
    with time_machine.travel(datetime(2026, 5, 1, 1, 0, tzinfo=UTC), tick=False):
        assert api.post(url(job), {"kind": "start"}, format="json").status_code == 201
    with time_machine.travel(datetime(2026, 5, 1, 1, 2, tzinfo=UTC), tick=False):
        answer = api.post(url(job), {"body": "42 files"}, format="json")
    assert answer.status_code == 201 and answer.json()["kind"] == "success"
    job.refresh_from_db()
    assert job.state == "up" and job.last_duration == timedelta(minutes=2)
    assert Ping.objects.get(kind="success").body == "42 files"


def test_an_exit_status_raises_the_checks_alert_and_zero_resolves_it(job):
    api = keyed("checks:ping")
    assert api.post(url(job), {"exit_status": 3}, format="json").json()["kind"] == "fail"
    alert = Alert.objects.get(fingerprint=job.fingerprint)
    assert alert.status == "firing"
    api.post(url(job), {"exit_status": 0}, format="json")
    alert.refresh_from_db()
    assert alert.status == "resolved"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"exit_status": 256}, "exit_status"),
        ({"kind": "explode"}, "kind"),
        ({"kind": "log", "exit_status": 1}, "exit_status"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_records_nothing(job, body, field):
    answer = keyed("checks:ping").post(url(job), body, format="json")
    assert answer.status_code == 400 and field in str(answer.json())
    assert Ping.objects.count() == 0


def test_a_key_without_the_scope_is_refused_and_an_unknown_check_is_a_404(job):
    refused = keyed("read", "alerts:write").post(url(job), {}, format="json")
    assert refused.status_code == 403 and "checks:ping" in refused.json()["detail"]
    assert (
        keyed("checks:ping").post("/api/operations/checks/999999/ping", {}, format="json").status_code == 404
    )
    assert Ping.objects.count() == 0
