"""The status widget embedded on another site: Chromium loads /widget.js cross-origin, the
script reads the CORS-enabled status JSON and shows the page's status, and follows a change."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from statuspage import services
from statuspage.models import ComponentStatus
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def embedding_site(live_server):
    page_html = (
        '<!doctype html><title>Our product</title><p>Service status: <span id="here"></span></p>'
        f'<script src="{live_server.url}/widget.js" data-target="#here" async></script>'
    ).encode()

    class Site(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page_html)))
            self.end_headers()
            self.wfile.write(page_html)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_the_widget_shows_the_status_on_another_site(page, embedding_site):
    ComponentFactory(name="API")
    page.goto(embedding_site)
    widget = page.locator("#here a.vigil-status-widget")
    widget.wait_for(timeout=10_000)
    page.wait_for_function("document.querySelector('#here a').dataset.indicator === 'none'", timeout=10_000)
    assert widget.inner_text() == "All Systems Operational"


def test_the_widget_shows_an_outage_after_a_reload(page, embedding_site):
    component = ComponentFactory(name="API")
    services.component_set_status(component=component, status=ComponentStatus.MAJOR_OUTAGE)
    page.goto(embedding_site)
    shown = "document.querySelector('#here a')?.dataset.indicator === 'critical'"
    page.wait_for_function(shown, timeout=10_000)
    assert "Outage" in page.locator("#here a").inner_text()
