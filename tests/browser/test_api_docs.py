"""The API docs render under their Content-Security-Policy (the page fixture fails the test on
any violation Chromium reports)."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


# Swagger UI renders a long list of operations virtualized: only those near the viewport are in
# the page, so a late one appears once the reader scrolls down to it.
FIRST_ALERTS_OPERATION = "/api/operations/alert-rules"


def test_it_renders_swagger_ui(page):
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Vigil API")
    expect(page.get_by_text(FIRST_ALERTS_OPERATION).first).to_be_visible()
    last = page.locator('.opblock-summary-path[data-path="/metrics"]')
    for _ in range(100):  # scrolled to the end, the last operation is there to read
        if last.count():
            break
        page.mouse.wheel(0, 2000)
        page.wait_for_timeout(50)
    expect(last).to_be_visible()


# Redoc lays out the whole schema (over 300 kB) before it shows anything: on a busy two-core
# machine that takes longer than expect()'s default 5 s.
RENDER_MS = 30_000


def test_it_renders_redoc(page):
    page.goto("/api/redoc/")
    expect(page.get_by_role("heading", name="Vigil API").first).to_be_visible(timeout=RENDER_MS)
    expect(page.get_by_text("/api/operations/alerts").first).to_be_attached(timeout=RENDER_MS)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_it_asks_no_other_host_for_anything(page, live_server, path):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(path)
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text(FIRST_ALERTS_OPERATION).first).to_be_attached(timeout=RENDER_MS)
    served_here = urlsplit(live_server.url).netloc
    elsewhere = [url for url in requested if url.startswith("http") and urlsplit(url).netloc != served_here]
    assert requested and not elsewhere, elsewhere
