"""The API docs pages reference no other host: the Redoc bundle is Vigil's own, without its
CDN logo, and Swagger UI has no validator badge to fetch."""

import re

import pytest

from config.api_docs import REDOC_LOGO

pytestmark = pytest.mark.django_db
EXTERNAL_URL = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""")


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_it_renders_the_docs_pages_with_only_local_assets(client, path):
    html = client.get(path).content.decode()
    assert not EXTERNAL_URL.search(html), html


def test_it_serves_redoc_without_its_cdn_logo(client):
    page = client.get("/api/redoc/").content.decode()
    bundle_url = re.search(r'<script src="([^"]+redoc\.standalone\.js)"', page).group(1)
    response = client.get(bundle_url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    assert "Redoc" in body and REDOC_LOGO not in body and "cdn.redoc.ly" not in body


def test_it_turns_off_swagger_uis_validator_badge(client):
    script = client.get("/api/docs/?script").content.decode()
    assert re.search(r'"validatorUrl":\s*null', script)
