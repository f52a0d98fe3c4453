"""Editing the branding (API, admin), two writers at once, and the mails that carry it."""

import base64
import threading

import pytest
from django.db import connection

from notifications.models import Delivery, Message
from notifications.senders import render_html, render_text, template_context
from statuspage import services
from statuspage.models import ComponentStatus, StatusPageBranding
from subscribers import services as subscriber_service
from tests.statuspage.branding_helpers import SVG, picture, upload
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.factories import SubscriberFactory

pytestmark = pytest.mark.django_db
URL = "/api/status/admin/branding"


# --- API ---------------------------------------------------------------------------------


def test_it_answers_the_default_branding_before_any_is_set(api):
    body = api.get(URL).json()
    assert (body["title"], body["logo_url"], body["updated_at"]) == ("Vigil Status", "", None)


def test_it_sets_text_fields_with_json(api):
    response = api.put(URL, {"page_title": "Acme Status", "accent_colour": "#0a7c66"}, format="json")
    assert (response.status_code, response.json()["accent_colour"]) == (200, "#0a7c66")


def test_it_answers_400_with_the_field_for_a_bad_colour(api):
    response = api.put(URL, {"accent_colour": "red"}, format="json")
    assert response.status_code == 400 and "accent_colour" in response.json()["errors"]


def test_it_answers_400_for_css_that_breaks_out(api):
    response = api.put(URL, {"custom_css": "</style><script>alert(1)</script>"}, format="json")
    assert response.status_code == 400 and "custom_css" in response.json()["errors"]


def test_it_answers_400_for_a_footer_link_without_a_url(api):
    response = api.put(URL, {"footer_links": [{"label": "Home"}]}, format="json")
    assert response.status_code == 400 and "footer_links" in response.json()["errors"]


def test_it_takes_a_logo_as_base64_in_json(api, media):
    data = base64.b64encode(picture()).decode()
    response = api.put(URL, {"logo": data}, format="json")
    assert response.status_code == 200 and response.json()["logo_url"].startswith("/branding/logo-")


def test_it_answers_400_for_a_logo_that_is_not_base64(api):
    response = api.put(URL, {"logo": "not base64!"}, format="json")
    assert response.status_code == 400 and "logo" in response.json()["errors"]


def test_it_removes_the_logo_with_null(api, media):
    api.put(URL, {"logo": base64.b64encode(picture()).decode()}, format="json")
    assert api.put(URL, {"logo": None}, format="json").json()["logo_url"] == ""


def test_it_answers_400_for_a_body_that_is_not_an_object(api):
    assert api.put(URL, [1, 2], format="json").status_code == 400


def test_it_uploads_a_logo_as_multipart(api, media):
    response = api.put(URL, {"logo": upload(picture())}, format="multipart")
    assert response.status_code == 200 and response.json()["logo_url"].startswith("/branding/logo-")


def test_it_answers_400_for_an_svg_logo(api, media):
    response = api.put(
        URL, {"logo": upload(SVG, name="x.svg", content_type="image/svg+xml")}, format="multipart"
    )
    assert response.status_code == 400 and "logo" in response.json()["errors"]


def test_it_removes_the_logo_with_an_empty_multipart_value(api, media):
    api.put(URL, {"logo": upload(picture())}, format="multipart")
    assert api.put(URL, {"logo": ""}, format="multipart").json()["logo_url"] == ""


def test_it_refuses_the_change_to_anonymous_clients(client):
    assert client.put(URL, "{}", content_type="application/json").status_code in (401, 403)


def test_it_documents_the_branding_endpoint_in_the_schema(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operations = schema["paths"]["/api/status/admin/branding"]
    assert {"get", "put"} <= set(operations)


# --- admin -------------------------------------------------------------------------------


def test_it_opens_the_branding_as_one_page(admin_client_):
    response = admin_client_.get("/admin/statuspage/statuspagebranding/")
    assert response.status_code == 302 and response["Location"].endswith("/statuspagebranding/add/")


def test_it_saves_the_branding_from_the_admin_through_the_service(admin_client_, media, settings):
    form = {"page_title": "Acme Status", "accent_colour": "#0a7c66", "custom_css": "", "footer_links": "[]"}
    form |= {"about": "", "logo": upload(picture())}
    response = admin_client_.post("/admin/statuspage/statuspagebranding/add/", form)
    assert response.status_code == 302
    assert StatusPageBranding.objects.get().logo.name.startswith("branding/logo-")


def test_it_shows_the_css_error_in_the_admin_form(admin_client_):
    form = {"page_title": "", "accent_colour": "", "custom_css": "x{} @import 'y';", "footer_links": "[]"}
    response = admin_client_.post("/admin/statuspage/statuspagebranding/add/", form | {"about": ""})
    assert response.status_code == 200 and "@import is not allowed" in response.text


# --- two writers -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_row_when_two_first_writers_race():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises them (IMMEDIATE transactions)")
    barrier, errors = threading.Barrier(2), []

    def write(title: str) -> None:
        try:
            barrier.wait()
            services.branding_update(values={"page_title": title})
        except Exception as exc:  # reported below, the thread must not swallow it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(t,)) for t in ("One", "Two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (errors, StatusPageBranding.objects.count()) == ([], 1)


# --- mails -------------------------------------------------------------------------------


def _rendered(message: Message) -> tuple[str, str]:
    delivery = Delivery.objects.filter(message=message).first()
    context = template_context(message, delivery)
    return render_html(message, context), render_text(message, context)


def _incident_mail() -> Message:
    component = ComponentFactory(name="API")
    SubscriberFactory(email="reader@example.com")
    services.incident_create(
        title="Slow", message="Looking.", components={component: ComponentStatus.DEGRADED_PERFORMANCE}
    )
    return Message.objects.get(kind="incident.created")


def test_it_puts_the_logo_in_the_mail_as_an_absolute_url(media, settings):
    row = services.branding_update(values={"logo": upload(picture())})
    html, _text = _rendered(_incident_mail())
    assert f'<img src="{settings.PUBLIC_URL}{row.logo_url}"' in html


def test_it_colours_the_mail_with_the_accent(media):
    services.branding_update(values={"accent_colour": "#0a7c66"})
    html, _text = _rendered(_incident_mail())
    assert "color: #0a7c66" in html


def test_it_puts_the_footer_links_in_both_parts_of_the_mail():
    links = [{"label": "Help", "url": "https://help.acme.example/"}]
    services.branding_update(values={"footer_links": links, "page_title": "Acme Status"})
    html, text = _rendered(_incident_mail())
    assert '<a href="https://help.acme.example/">Help</a>' in html
    assert "Help: https://help.acme.example/" in text and text.startswith("Acme Status")


def test_it_sends_the_mail_as_before_without_branding():
    html, text = _rendered(_incident_mail())
    assert "<img" not in html and "color: #" not in html.split("<h1", 1)[1].split(">", 1)[0]


def test_it_brands_the_subscription_confirmation_mail():
    services.branding_update(values={"accent_colour": "#0a7c66"})
    subscriber_service.subscriber_subscribe(email="new@example.com")
    html, _text = _rendered(Message.objects.get(kind="subscriber.confirm"))
    assert "background: #0a7c66" in html


def test_it_shows_an_svg_logo_as_an_admin_form_error(admin_client_, media):
    form = {"page_title": "", "accent_colour": "", "custom_css": "", "footer_links": "[]", "about": ""}
    form["logo"] = upload(SVG, name="logo.svg", content_type="image/svg+xml")
    response = admin_client_.post("/admin/statuspage/statuspagebranding/add/", form)
    assert response.status_code == 200 and "SVG is not accepted" in response.text
