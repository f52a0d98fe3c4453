"""A script on another origin reads the public JSON with a custom header: Chromium sends the
preflight and enforces the answer, which is the real proof that widgets can embed the status."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

FETCH = """async (url) => {
  try {
    const response = await fetch(url, {headers: {"X-Widget-Version": "2"}});
    return {status: response.status, body: await response.text()};
  } catch (error) {
    return {error: String(error)};
  }
}"""


class _WidgetPage(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<!doctype html><title>A widget's site</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def other_origin():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WidgetPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_it_lets_a_script_on_another_origin_read_the_status_with_a_custom_header(
    page, live_server, other_origin
):
    page.goto(other_origin)
    result = page.evaluate(FETCH, f"{live_server.url}/api/v2/summary.json")
    assert result.get("status") == 200, result
    assert '"indicator"' in result["body"]


def test_it_keeps_the_html_page_closed_to_other_origins(page, live_server, other_origin):
    page.goto(other_origin)
    result = page.evaluate(FETCH, f"{live_server.url}/")
    assert "error" in result, result
