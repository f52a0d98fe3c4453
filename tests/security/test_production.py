"""Vigil as production runs it: the Procfile's web command, DEBUG=0, TLS terminated at a
proxy (USE_X_FORWARDED_PROTO), secrets in the environment, no `collectstatic` and an empty
database. Settings are read at start-up, so only a process of its own shows this.

Checked: HSTS over TLS only, the other headers, the site's own error pages with working static
files, and logs (the access log, Django's request log with its tracebacks) that hold none
of the secrets the requests carried."""

import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import ROOT, SERVICE_VARIABLES

# The server runs embedded whatever the mode (it must start without a migrated database), so
# the service mode run would repeat the embedded one exactly.
pytestmark = pytest.mark.skipif(
    os.environ.get("VIGIL_TEST_MODE") == "service",
    reason="runs its own embedded server; checked in embedded mode",
)

SECRET_KEY = secrets.token_urlsafe(50)
API_TOKEN = secrets.token_hex(20)
MANAGE_TOKEN = secrets.token_urlsafe(32)
SHORT_TOKEN = "tok" + secrets.token_hex(8)  # too short to look up: refused before the database
SMTP_PASSWORD = "smtp-" + secrets.token_hex(8)
METRICS_TOKEN = "metrics-" + secrets.token_hex(12)
TLS = {"X-Forwarded-Proto": "https"}


def _procfile_web(env: dict) -> list[str]:
    """The Procfile's web command, ${VAR:-default} expanded, run by this Python."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    line = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1), m.group(2)), line[4:])
    command = shlex.split(line)
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{base}/health/live", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or the worker still booting
            time.sleep(0.1)
    raise AssertionError("the web server did not come up")


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """Start the server, make the requests, stop it; returns (responses by name, all log output)."""
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        PUBLIC_URL=f"https://127.0.0.1:{port}",
        USE_X_FORWARDED_PROTO="1",
        VIGIL_DATA_DIR=str(tmp_path_factory.mktemp("production")),
        VIGIL_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        EMAIL_URL=f"smtp://vigil:{SMTP_PASSWORD}@127.0.0.1:1",
        METRICS_TOKEN=METRICS_TOKEN,
        LOG_LEVEL="INFO",
    )
    process = subprocess.Popen(
        _procfile_web(env), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    responses = {}
    try:
        _wait_until_up(base, process)
        get = requests.Session().get
        responses["live over TLS"] = get(f"{base}/health/live", headers=TLS)
        responses["live over HTTP"] = get(f"{base}/health/live")
        responses["page over HTTP"] = get(f"{base}/history", allow_redirects=False)
        responses["404"] = get(f"{base}/no/such/page?key={SECRET_KEY}&metrics={METRICS_TOKEN}", headers=TLS)
        css = re.search(r'href="([^"]+\.css)"', responses["404"].text)
        responses["css"] = get(f"{base}{css.group(1)}", headers=TLS) if css else None
        auth = {**TLS, "Authorization": f"Token {API_TOKEN}"}
        responses["500"] = get(f"{base}/api/status/manage/{MANAGE_TOKEN}", headers=auth)
        responses["400"] = get(f"{base}/api/status/unsubscribe/{SHORT_TOKEN}", headers=TLS)
        responses["csrf"] = requests.post(f"{base}/admin/login/", data={"username": "x"}, headers=TLS)
    finally:
        process.send_signal(signal.SIGINT)  # quick shutdown: nothing is in flight
        output, _ = process.communicate(timeout=30)
    return responses, output


def test_it_sends_hsts_over_tls_only(production):
    responses, _ = production
    assert responses["live over TLS"].headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in responses["live over HTTP"].headers
    assert responses["page over HTTP"].status_code == 301
    assert responses["page over HTTP"].headers["Location"].startswith("https://")


def test_it_sends_the_other_headers_in_production(production):
    responses, _ = production
    for name in ("404", "400", "csrf"):
        headers = responses[name].headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], name
        assert (headers["X-Frame-Options"], headers["X-Content-Type-Options"]) == ("DENY", "nosniff"), name
        assert headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "same-origin"), name


def test_it_serves_its_own_error_pages_with_their_stylesheet(production):
    responses, _ = production
    page = responses["404"]
    assert page.status_code == 404 and 'data-vigil-error="404"' in page.text
    css = responses["css"]  # served although collectstatic never ran
    assert css is not None and css.status_code == 200 and "{" in css.text
    assert responses["csrf"].status_code == 403 and "form has expired" in responses["csrf"].text
    assert responses["400"].status_code == 400 and "not valid" in responses["400"].text
    assert responses["500"].status_code == 500
    assert responses["500"].json() == {"detail": "Server error. It has been logged."}
    for response in responses.values():
        assert "Traceback" not in response.text and SECRET_KEY not in response.text


def test_it_logs_requests_and_errors_without_secrets(production):
    _, output = production
    assert "Internal Server Error: /api/status/manage/…" in output and "Traceback" in output
    assert "Bad Request: /api/status/unsubscribe/…" in output
    assert re.search(r'"GET /api/status/manage/… HTTP/1\.1" 500', output), output[-3000:]
    for secret in (SECRET_KEY, API_TOKEN, MANAGE_TOKEN, SHORT_TOKEN, SMTP_PASSWORD, METRICS_TOKEN):
        assert secret not in output
