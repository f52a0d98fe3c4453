"""The status page's branding: what it accepts, and where it shows (pages, files, cache, copy)."""

import re

import pytest
from django.core.management import call_command

from statuspage import services
from statuspage.branding import branding_get
from statuspage.models import StatusPageBranding
from tests.statuspage.branding_helpers import SVG, picture, upload

pytestmark = pytest.mark.django_db


def brand(**values) -> StatusPageBranding:
    return services.branding_update(values=values)


def refused(**values) -> dict:
    with pytest.raises(services.BrandingInvalid) as caught:
        brand(**values)
    return caught.value.errors


# --- what it accepts ---------------------------------------------------------------------


def test_it_accepts_an_accent_colour_as_rrggbb():
    assert brand(accent_colour="#0a7c66").accent_colour == "#0a7c66"


@pytest.mark.parametrize("colour", ["red", "#fff", "#0a7c66;", "#0a7c6g", "#0a7c66 }"])
def test_it_refuses_an_accent_colour_that_is_not_rrggbb(colour):
    assert "accent_colour" in refused(accent_colour=colour)


@pytest.mark.parametrize(
    "css",
    [
        "</style><script>alert(1)</script>",
        "@import url(https://evil.example/x.css);",
        "@IMPORT 'x.css';",
        "body { background: url(javascript:alert(1)); }",
        "body { background: url('https://evil.example/track.png'); }",
        "body { background: url(//evil.example/track.png); }",
        "body { width: expression(alert(1)); }",
        "body { width: expr/**/ession(alert(1)); }",
        "body { behavior: url(/x.htc); }",
        "body { -moz-binding: url(/x.xml#x); }",
        "body { background: url(\\6a avascript:alert(1)); }",
    ],
)
def test_it_refuses_css_that_tries_to_break_out(css):
    assert "custom_css" in refused(custom_css=css)


def test_it_accepts_plain_css_with_a_same_site_url():
    css = ".banner { border-radius: 0; background: url(/static/x.png) no-repeat; }"
    assert brand(custom_css=css).custom_css == css


def test_it_refuses_custom_css_over_its_size_cap():
    assert "custom_css" in refused(custom_css="a{}" * 10_000)


def test_it_accepts_a_few_http_footer_links():
    links = [
        {"label": "Home", "url": "https://example.com/"},
        {"label": "Help", "url": "http://help.example"},
    ]
    assert brand(footer_links=links).footer_links == links


@pytest.mark.parametrize(
    "links",
    [
        [{"label": "x", "url": "javascript:alert(1)"}],
        [{"label": "x", "url": "ftp://example.com/"}],
        [{"label": "", "url": "https://example.com/"}],
        [{"label": "x", "url": "https://user:pw@example.com/"}],
        [{"label": "x", "url": "https://example.com/", "target": "_top"}],
        [{"label": f"l{n}", "url": "https://example.com/"} for n in range(6)],
        "https://example.com/",
    ],
)
def test_it_refuses_bad_footer_links(links):
    assert "footer_links" in refused(footer_links=links)


def test_it_accepts_a_png_logo_and_names_it_by_its_content(media):
    row = brand(logo=upload(picture("PNG")))
    assert re.fullmatch(r"branding/logo-[0-9a-f]{16}\.png", row.logo.name)


def test_it_accepts_a_jpeg_logo_whatever_its_file_name(media):
    assert brand(logo=upload(picture("JPEG"), name="logo.png")).logo.name.endswith(".jpg")


def test_it_refuses_an_svg_logo(media):
    assert "logo" in refused(logo=upload(SVG, name="logo.svg", content_type="image/svg+xml"))


def test_it_refuses_a_gif_logo(media):
    assert "logo" in refused(logo=upload(picture("GIF"), name="logo.gif"))


def test_it_refuses_a_logo_that_is_not_a_picture(media):
    assert "logo" in refused(logo=upload(b"<html><script>alert(1)</script></html>"))


def test_it_refuses_a_logo_over_its_size_cap(media):
    assert "logo" in refused(logo=upload(picture("PNG") + b"\0" * 600_000))


def test_it_refuses_a_logo_with_too_many_pixels(media):
    assert "logo" in refused(logo=upload(picture("PNG", size=(4000, 10))))


def test_it_accepts_an_ico_favicon(media):
    assert brand(favicon=upload(picture("ICO", size=(32, 32)), name="f.ico")).favicon.name.endswith(".ico")


def test_it_keeps_fields_not_given():
    brand(page_title="Acme Status", about="Acme runs things.")
    assert brand(accent_colour="#112233").page_title == "Acme Status"


def test_it_removes_the_logo_when_given_none(media):
    brand(logo=upload(picture()))
    assert not brand(logo=None).logo


def test_it_writes_nothing_when_one_field_is_refused():
    brand(page_title="Before")
    refused(page_title="After", accent_colour="blue")
    assert branding_get().page_title == "Before"


# --- defaults ----------------------------------------------------------------------------


def test_it_renders_the_page_without_branding_as_an_empty_branding(client):
    before = client.get("/").content
    brand(page_title="", accent_colour="", custom_css="", footer_links=[], about="")
    assert client.get("/").content == before


def test_it_names_no_branding_file_without_branding(client):
    body = client.get("/").content.decode()
    assert "/branding/" not in body and "<title>Vigil Status</title>" in body


# --- the public pages --------------------------------------------------------------------


def test_it_shows_the_page_title_in_the_title_and_masthead(client):
    brand(page_title="Acme Cloud Status")
    body = client.get("/").content.decode()
    assert (
        "<title>Acme Cloud Status</title>" in body
        and '<span class="brand__name">Acme Cloud Status</span>' in body
    )


def test_it_links_the_branding_stylesheet_with_a_content_hash(client):
    brand(accent_colour="#0a7c66")
    assert re.search(
        r'<link rel="stylesheet" href="/branding/custom-[0-9a-f]{16}\.css">', client.get("/").text
    )


def test_it_serves_the_accent_colour_as_a_css_variable(client):
    row = brand(accent_colour="#0a7c66", custom_css=".banner { border-radius: 0; }")
    response = client.get(row.stylesheet_url)
    assert response["Content-Type"] == "text/css; charset=utf-8"
    assert response.text == ":root { --brand: #0a7c66; --accent: #0a7c66; }\n.banner { border-radius: 0; }\n"


def test_it_answers_404_for_a_stylesheet_of_an_older_branding(client):
    old = brand(accent_colour="#0a7c66").stylesheet_url
    brand(accent_colour="#112233")
    assert client.get(old).status_code == 404


def test_it_shows_the_logo_and_favicon(client, media):
    row = brand(logo=upload(picture()), favicon=upload(picture(size=(32, 32))))
    body = client.get("/").text
    assert f'<img class="brand__logo" src="{row.logo_url}" alt="">' in body
    assert f'<link rel="icon" href="{row.favicon_url}">' in body


def test_it_serves_the_logo_with_a_fixed_type_and_nosniff(client, media):
    content = picture("JPEG")
    response = client.get(brand(logo=upload(content)).logo_url)
    assert (response["Content-Type"], response["X-Content-Type-Options"]) == ("image/jpeg", "nosniff")
    assert response.content == content


def test_it_serves_the_logo_with_a_sandboxing_policy(client, media):
    response = client.get(brand(logo=upload(picture())).logo_url)
    assert "sandbox" in response["Content-Security-Policy"]


def test_it_serves_no_other_file_from_media_storage(client, media):
    brand(logo=upload(picture()))
    (media / "branding" / "other.png").write_bytes(picture())
    assert client.get("/branding/other.png").status_code == 404


def test_it_shows_footer_links_and_the_about_line(client):
    brand(about="Acme runs things.", footer_links=[{"label": "Home", "url": "https://acme.example/"}])
    body = client.get("/").text
    assert '<a href="https://acme.example/" rel="noopener">Home</a>' in body and "Acme runs things." in body


def test_it_escapes_the_title_and_footer_labels(client):
    brand(page_title="<b>x</b>", footer_links=[{"label": "<i>y</i>", "url": "https://acme.example/"}])
    body = client.get("/").text
    assert "<b>x</b>" not in body and "<i>y</i>" not in body


def test_it_turns_the_cached_page_over_when_branding_changes(client, django_capture_on_commit_callbacks):
    client.get("/")
    client.get("/")  # now from the page cache
    with django_capture_on_commit_callbacks(execute=True):
        brand(page_title="Acme Cloud Status")
    assert "<title>Acme Cloud Status</title>" in client.get("/").text


def test_it_brands_the_subscriber_pages(client):
    brand(page_title="Acme Cloud Status")
    assert "Acme Cloud Status" in client.get("/api/status/confirm/nope", HTTP_ACCEPT="text/html").text


# --- feeds and the static copy -----------------------------------------------------------


def test_it_titles_the_feeds_with_the_page_title(client):
    brand(page_title="Acme Cloud Status")
    assert (
        "<title>Acme Cloud Status: incidents and maintenance</title>" in client.get("/feeds/history.rss").text
    )


def test_it_gives_the_atom_feed_the_logo_and_icon(client, media, settings):
    row = brand(logo=upload(picture()), favicon=upload(picture(size=(32, 32))))
    body = client.get("/feeds/history.atom").text
    assert f"<icon>{settings.PUBLIC_URL}{row.favicon_url}</icon>" in body
    assert f"<logo>{settings.PUBLIC_URL}{row.logo_url}</logo>" in body


def test_it_gives_the_rss_feed_the_logo_as_its_image(client, media, settings):
    row = brand(logo=upload(picture()))
    assert f"<image><url>{settings.PUBLIC_URL}{row.logo_url}</url>" in client.get("/feeds/history.rss").text


def test_it_writes_the_branding_files_into_the_static_copy(tmp_path, media):
    content = picture()
    row = brand(accent_colour="#0a7c66", logo=upload(content))
    call_command("publish_status", "--out", str(tmp_path / "out"))
    assert (tmp_path / "out" / row.logo_url.lstrip("/")).read_bytes() == content
    assert "#0a7c66" in (tmp_path / "out" / row.stylesheet_url.lstrip("/")).read_text()
    assert row.stylesheet_url in (tmp_path / "out" / "index.html").read_text()
