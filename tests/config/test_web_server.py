"""The web server's own parts: its settings, the RSGI bridge's WSGI environ, and the access log."""

import io
import logging
import subprocess
import sys
from types import SimpleNamespace

import pytest

from config import web
from config.access_log import BufferedStreamHandler
from config.rsgi import build_environ
from tests.conftest import ROOT


class Headers(list):
    def items(self):
        return list(self)


def scope(**overrides):
    base = dict(
        method="GET",
        path="/",
        query_string="",
        server="127.0.0.1:8000",
        client="127.0.0.1:50000",
        http_version="1.1",
        scheme="http",
        authority=None,
        headers=Headers([("host", "127.0.0.1:8000")]),
    )
    return SimpleNamespace(**{**base, **overrides})


def test_it_gives_django_the_path_as_wsgi_does():
    environ = build_environ(scope(path="/café/a b", query_string="x=%20y"), b"")
    assert environ["PATH_INFO"].encode("latin-1").decode("utf-8") == "/café/a b"
    assert environ["QUERY_STRING"] == "x=%20y"


def test_it_joins_repeated_headers_and_cookies():
    headers = Headers([("x-m", "1"), ("x-m", "2"), ("cookie", "a=1"), ("cookie", "b=2")])
    environ = build_environ(scope(headers=headers), b"")
    assert environ["HTTP_X_M"] == "1,2"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"


def test_it_passes_the_body_length_and_type_without_an_http_prefix():
    headers = Headers([("content-type", "application/json"), ("content-length", "2")])
    environ = build_environ(scope(method="POST", headers=headers), b"{}")
    assert (environ["CONTENT_TYPE"], environ["CONTENT_LENGTH"]) == ("application/json", "2")
    assert environ["wsgi.input"].read() == b"{}"


def test_it_takes_the_host_from_the_authority_under_http2():
    environ = build_environ(scope(headers=Headers(), authority="status.example.com"), b"")
    assert environ["HTTP_HOST"] == "status.example.com"


def test_it_reads_the_client_address_of_ipv6():
    assert build_environ(scope(client="[::1]:5000"), b"")["REMOTE_ADDR"] == "::1"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VIGIL_BIND", "localhost"),
        ("VIGIL_BIND", "0.0.0.0:99999"),
        ("WEB_THREADS", "0"),
        ("WEB_TIMEOUT", "x"),
    ],
)
def test_it_refuses_a_bad_setting_naming_it(name, value):
    with pytest.raises(web.BadSetting, match=name):
        web.server({name: value})


def test_it_stops_at_once_with_a_clear_message_on_a_bad_setting():
    done = subprocess.run(
        [sys.executable, "-m", "config.web"],
        cwd=ROOT,
        env={"VIGIL_BIND": "nowhere", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "VIGIL_BIND must be host:port" in done.stderr
    assert "Traceback" not in done.stderr


def test_it_listens_on_an_ipv6_address_without_brackets():
    assert web.parse_bind("[::]:8000") == ("::", 8000)


def test_the_access_log_writes_in_batches_and_on_flush():
    stream = io.StringIO()
    handler = BufferedStreamHandler(stream, max_delay=3600)
    record = logging.LogRecord("vigil.access", logging.INFO, __file__, 1, "GET / 200", None, None)
    handler.handle(record)
    assert stream.getvalue() == ""
    handler.flush()
    assert stream.getvalue() == "GET / 200\n"


def test_the_access_log_writes_when_its_buffer_is_full():
    stream = io.StringIO()
    handler = BufferedStreamHandler(stream, max_bytes=20, max_delay=3600)
    for _ in range(3):
        handler.handle(
            logging.LogRecord("vigil.access", logging.INFO, __file__, 1, "GET /long 200", None, None)
        )
    assert stream.getvalue().count("GET /long 200") == 2
