"""The public side in the visitor's language: negotiation, the picker, the page cache per
language, subscriber pages and mails, and translations that are complete."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from notifications.models import Message
from notifications.senders import build_email
from statuspage import services
from subscribers.models import Subscriber
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.factories import SubscriberFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _headers(response) -> dict:
    return {name: value for name, value in response.items() if name != "Date"}


@pytest.mark.parametrize(
    ("accept", "language", "words"),
    [
        ("de-DE,de;q=0.9,en;q=0.5", "de", "Alle Systeme in Betrieb"),
        ("fr-CA,fr;q=0.8", "fr", "Tous les systèmes sont opérationnels"),
        ("pt-BR", "en", "All Systems Operational"),
        ("", "en", "All Systems Operational"),
    ],
)
def test_it_answers_the_home_page_in_the_browsers_language(client, accept, language, words):
    ComponentFactory(name="API")
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 200
    assert response["Content-Language"] == language
    assert f'<html lang="{language}">' in response.content.decode()
    assert words in response.content.decode()
    assert "Accept-Language" in response["Vary"] and "Cookie" in response["Vary"]


def test_it_keeps_one_cached_copy_per_language_and_serves_each_early_the_same_way(client):
    ComponentFactory(name="API")
    rendered_de = client.get("/", HTTP_ACCEPT_LANGUAGE="de", HTTP_ACCEPT_ENCODING="gzip")
    rendered_en = client.get("/", HTTP_ACCEPT_LANGUAGE="en", HTTP_ACCEPT_ENCODING="gzip")
    cached_de = client.get("/", HTTP_ACCEPT_LANGUAGE="de", HTTP_ACCEPT_ENCODING="gzip")
    # The second German request came from the early middleware: no session or user on it.
    assert not hasattr(cached_de.wsgi_request, "user")
    assert _headers(cached_de) == _headers(rendered_de)
    assert cached_de.content == rendered_de.content != rendered_en.content
    assert rendered_de["ETag"] != rendered_en["ETag"]


def test_a_304_is_per_language(client):
    client.get("/", HTTP_ACCEPT_LANGUAGE="de")
    etag = client.get("/", HTTP_ACCEPT_LANGUAGE="de")["ETag"]
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="de", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="fr", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_the_picker_sets_a_cookie_that_wins_over_the_browser_and_goes_back(client):
    response = client.get("/language", {"language": "fr", "next": "/history"}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 303 and response["Location"] == "/history"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "fr" and cookie["samesite"] == "Lax" and cookie["httponly"]
    page = client.get("/history", HTTP_ACCEPT_LANGUAGE="de")
    assert page["Content-Language"] == "fr" and "Historique des incidents" in page.content.decode()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_the_picker_is_no_open_redirect(client, target):
    response = client.get("/language", {"language": "de", "next": target})
    assert response.status_code == 303 and response["Location"] == "/"


def test_the_picker_refuses_an_unknown_language_with_a_clear_400(client):
    response = Client(enforce_csrf_checks=True).get("/language", {"language": "xx"})
    assert response.status_code == 400
    assert "en, de, fr" in response.content.decode()
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_picker_is_on_the_page_and_names_each_language_in_itself(client):
    html = client.get("/").content.decode()
    assert 'action="/language"' in html and 'name="next" value="/"' in html
    assert ">Deutsch<" in html and ">français<" in html.lower()


def test_dates_and_numbers_follow_the_language(client):
    incident = services.incident_create(title="API down", message="Looking")
    de = client.get(f"/incidents/{incident.pk}", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    en = client.get(f"/incidents/{incident.pk}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    started = incident.started_at.astimezone()
    assert f"{started.day}. " in de and "Wird untersucht" in de
    assert "Investigating" in en


def test_the_console_and_the_api_stay_in_english(admin_client):
    page = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="de")
    assert page.status_code == 200 and "Content-Language" not in page
    answer = Client().get("/api/operations/alerts", HTTP_ACCEPT_LANGUAGE="de")
    assert "Authentication credentials were not provided." in answer.content.decode()


def test_a_subscriber_keeps_the_language_they_subscribed_in_and_gets_mail_in_it(client):
    response = client.post("/api/status/subscribe", {"email": "anna@example.com"}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 202 and "Bestätigungslink" in response.content.decode()
    subscriber = Subscriber.objects.get(email="anna@example.com")
    assert subscriber.language == "de"
    confirm = Message.objects.get(kind="subscriber.confirm")
    mail = build_email(confirm, confirm.deliveries.get())
    assert (
        mail.subject.startswith("Bestätigen Sie Ihr Abonnement")
        and "Abonnement bestätigen" in mail.body + (mail.alternatives[0][0])
    )


def test_incident_mail_is_written_per_recipient_language():
    SubscriberFactory(email="anna@example.com", language="de")
    SubscriberFactory(email="jean@example.com", language="fr")
    SubscriberFactory(email="sam@example.com")
    services.incident_create(title="API down", message="Looking")
    message = Message.objects.get(kind="incident.created")
    mails = {d.recipient: build_email(message, d) for d in message.deliveries.all()}
    assert mails["anna@example.com"].subject == "[Wird untersucht] API down"
    assert "Aktueller Status: Wird untersucht" in mails["anna@example.com"].body
    assert mails["jean@example.com"].subject == "[Analyse en cours] API down"
    assert mails["sam@example.com"].subject == message.subject == "[Investigating] API down"
    assert 'lang="de"' in mails["anna@example.com"].alternatives[0][0]


@pytest.mark.skipif(shutil.which("xgettext") is None or shutil.which("msgfmt") is None, reason="gettext")
def test_every_public_string_is_translated_and_compiled(tmp_path):
    """makemessages over a copy finds no string the committed catalogues lack, none is left
    empty or fuzzy, and each .mo is what its .po compiles to."""
    sys.path.insert(0, str(ROOT))
    for language in ("de", "fr"):
        po = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
        check = subprocess.run(
            ["msgfmt", "--check", "--statistics", "-o", str(tmp_path / f"{language}.mo"), str(po)],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stderr
        assert "untranslated" not in check.stderr and "fuzzy" not in check.stderr, check.stderr
        compiled = (ROOT / "locale" / language / "LC_MESSAGES" / "django.mo").read_bytes()
        assert compiled == (tmp_path / f"{language}.mo").read_bytes(), f"{language}: run compilemessages"
    copy = tmp_path / "tree"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(".venv", ".git", "tests", "bench", "test-results", "__pycache__"),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "de", "-l", "fr", "--no-location"]
        + ["--ignore=templates/admin/*", "--ignore=.venv/*"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    for language in ("de", "fr"):
        fresh = (copy / "locale" / language / "LC_MESSAGES" / "django.po").read_text()
        check = subprocess.run(
            ["msgfmt", "--check", "--statistics", "-o", "/dev/null", "-"],
            input=fresh,
            capture_output=True,
            text=True,
        )
        assert "untranslated" not in check.stderr and "fuzzy" not in check.stderr, (language, check.stderr)
