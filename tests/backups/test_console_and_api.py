"""The age of the last verified backup in /health/detailed, the API and the console."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.backups.factories import BackupFactory, BackupVerificationFactory


def _verified(hours_ago: float):
    taken = timezone.now() - timedelta(hours=hours_ago)
    return BackupVerificationFactory(backup=BackupFactory(started_at=taken))


@pytest.mark.django_db(transaction=True)
def test_it_shows_the_age_of_the_last_verified_backup_in_detailed_health(client, staff_token):
    _verified(hours_ago=2)
    backups = client.get("/health/detailed", HTTP_AUTHORIZATION=f"Token {staff_token}").json()["checks"][
        "backups"
    ]
    assert backups["status"] == "ok"
    assert 7190 <= backups["age_seconds"] <= 7300


@pytest.mark.django_db(transaction=True)
def test_it_degrades_detailed_health_when_the_last_verified_backup_is_too_old(client, staff_token, settings):
    _verified(hours_ago=settings.BACKUP_MAX_AGE_HOURS + 1)
    response = client.get("/health/detailed", HTTP_AUTHORIZATION=f"Token {staff_token}")
    assert response.json()["checks"]["backups"]["status"] == "degraded"
    assert response.json()["status"] != "ok"


@pytest.mark.django_db(transaction=True)
def test_it_says_in_detailed_health_that_no_backup_was_verified(client, staff_token):
    backups = client.get("/health/detailed", HTTP_AUTHORIZATION=f"Token {staff_token}").json()["checks"][
        "backups"
    ]
    assert (backups["status"], backups["error"]) == ("degraded", "no verified backup")


@pytest.mark.django_db
def test_it_lists_backups_with_their_last_verification(api):
    verification = _verified(hours_ago=1)
    results = api.get("/api/operations/backups").json()["results"]
    assert [(row["file_name"], row["last_verification"]["result"]) for row in results] == [
        (verification.file_name, "passed")
    ]


@pytest.mark.django_db
def test_it_gives_the_backup_status_in_the_api(api):
    _verified(hours_ago=3)
    body = api.get("/api/operations/backups/status").json()
    assert (body["fresh"], 10790 <= body["age_seconds"] <= 10900) == (True, True)


@pytest.mark.django_db
def test_it_queues_a_backup_from_the_api_after_the_commit(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post("/api/operations/backups")
    assert (response.status_code, len(callbacks)) == (202, 1)


@pytest.mark.django_db
def test_it_shows_the_age_of_the_last_verified_backup_in_the_console(admin_client_):
    verification = _verified(hours_ago=5)
    page = admin_client_.get(reverse("admin:backups_backup_changelist")).content.decode()
    assert f"Last verified backup: {verification.file_name}, taken 5" in page


@pytest.mark.django_db
def test_it_queues_a_verification_from_the_console(admin_client_, django_capture_on_commit_callbacks):
    backup = BackupFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client_.post(
            reverse("admin:backups_backup_changelist"),
            {"action": "verify_again", "_selected_action": [backup.pk]},
        )
    assert len(callbacks) == 1
