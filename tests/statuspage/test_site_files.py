"""/favicon.ico and /robots.txt, and the subscriber pages' forms: real actions, the page's styles."""

import re
from pathlib import Path
from urllib.robotparser import RobotFileParser

import pytest

import statuspage
from subscribers import services as subscriber_service
from subscribers.models import Subscriber
from tests.security.pages import post_forms
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


def test_it_serves_a_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\0\0\1\0"  # an ICO file's header


def test_it_tells_crawlers_to_keep_to_the_public_pages(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    robots = RobotFileParser()
    robots.parse(response.content.decode().splitlines())
    for path in ["/", "/history", "/incidents/1", "/maintenance/1", "/feeds/history.atom"]:
        assert robots.can_fetch("AnyBot", path), path
    for path in [
        "/admin/",
        "/admin/console/alerts/1/resolve",
        "/api/operations/alerts",
        "/api/status/confirm/secret",
        "/api/status/manage/secret",
        "/api/status/unsubscribe/secret",
    ]:
        assert not robots.can_fetch("AnyBot", path), path


@pytest.fixture
def subscriber_pages(db):
    ComponentFactory(name="API")
    subscriber_service.subscriber_subscribe(email="reader@example.com")
    subscriber = Subscriber.objects.get()
    token = subscriber_service.new_token()
    subscriber.confirm_token_digest = subscriber_service.token_digest(token)
    subscriber.save()
    return [
        f"/api/status/confirm/{token}",
        f"/api/status/manage/{subscriber.manage_token}",
        f"/api/status/unsubscribe/{subscriber.manage_token}",
    ]


def test_it_posts_subscriber_forms_to_their_own_page(client, subscriber_pages):
    for page in subscriber_pages:
        html = client.get(page).content.decode()
        assert 'action=""' not in html, page
        assert [action for action, _ in post_forms(f"http://testserver{page}", html)] == [
            f"http://testserver{page}",
            "http://testserver/api/status/subscribe",  # the footer's e-mail form
            "http://testserver/api/status/subscribe",  # and its URL form
        ], page


def test_it_styles_the_subscriber_forms_like_the_page(client, subscriber_pages):
    css = (Path(statuspage.__file__).parent / "static" / "statuspage" / "status.css").read_text()
    for page in subscriber_pages:
        main = client.get(page).content.decode().split("<main", 1)[1].split("</main>", 1)[0]
        buttons = re.findall(r"<button[^>]*>", main)
        assert buttons and all('class="button"' in b for b in buttons), page
        for name in re.findall(r'class="([\w-]+)"', main):
            assert f".{name}" in css, f"{page}: .{name} has no style"
