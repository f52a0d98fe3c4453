"""Configuration read at start-up and the protocol details clients rely on."""

import json

import pytest
from django.core import mail
from django.core.mail import get_connection

from config.env import env_email
from tests.conftest import run_manage

pytestmark = pytest.mark.django_db

# A first /health/system reading in a fresh process while one core is busy.
FIRST_CPU_READING = """
import json, threading, time
def burn():
    # Long enough to outlast the first request's imports, slowed by this thread holding the
    # GIL; a daemon, so the process still ends as soon as the reading is printed.
    end = time.monotonic() + 30
    while time.monotonic() < end:
        pass
threading.Thread(target=burn, daemon=True).start()
time.sleep(0.3)
from django.test import Client
print(json.dumps(Client().get("/health/system").json()["checks"]["system"]))
"""


def test_it_writes_mail_to_the_folder_a_filemail_url_names(tmp_path, monkeypatch):
    folder = tmp_path / "mail"
    monkeypatch.setenv("EMAIL_URL", f"filemail://{folder}")
    config = env_email("EMAIL_URL", "consolemail://")
    connection = get_connection(config["EMAIL_BACKEND"], file_path=config["EMAIL_FILE_PATH"])
    mail.EmailMessage("Hello", "Body", "vigil@localhost", ["a@example.com"], connection=connection).send()
    assert [p.read_text().count("Subject: Hello") for p in folder.iterdir()] == [1]


@pytest.mark.parametrize("url", ["filemail://", "filemail://relative/mail"])
def test_it_refuses_a_filemail_url_without_an_absolute_folder_at_start_up(url):
    result = run_manage("check", env={"EMAIL_URL": url})
    assert result.returncode != 0
    assert "EMAIL_URL must name an absolute folder" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
def test_it_accepts_the_metrics_token_whatever_the_scheme_case(client, settings, scheme):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    settings.METRICS_ALLOWED_IPS = []
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"{scheme} s3cret-metrics-token")
    assert response.status_code == 200


def test_it_answers_an_unknown_api_path_with_json_in_debug_mode(client, settings):
    settings.DEBUG = True
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_it_still_redirects_an_api_path_that_only_lacks_its_slash(client, settings):
    settings.DEBUG = True
    assert client.get("/api/docs").status_code == 301


def test_it_reports_real_cpu_use_in_the_first_system_reading_of_a_process():
    result = run_manage("shell", "--no-imports", "-c", FIRST_CPU_READING)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["cpu_percent"] > 10
