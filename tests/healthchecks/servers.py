"""A small threaded HTTP(S) server on loopback that the probe tests point components at.

Paths: /ok (JSON health document), /fail (500), /slow (sleeps `slow_seconds`), /hang (never
answers until the server stops), /text ("hello world"), /private (401 without the basic auth
`credentials`), /away (a redirect to the same server under the name localhost: another host to
an HTTP client). Every request is
kept in `requests` (method, path, headers, body). `status` overrides the answer of a
path at run time ("fail" makes /ok answer 500), so a test can break and mend a server.
"""

import base64
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class ProbeTarget:
    def __init__(self, slow_seconds: float = 0.3, tls_cert: tuple[Path, Path] | None = None) -> None:
        self.slow_seconds = slow_seconds
        self.overrides: dict[str, int] = {}
        self.hits: dict[str, int] = {}
        self.requests: list[dict] = []
        self.credentials = "Basic " + base64.b64encode(b"monitor:s3cret-pa55").decode()
        self.stopping = threading.Event()
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, code: int, body: bytes, content_type: str = "application/json"):
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self, body: bytes = b""):
                path = self.path.split("?")[0]
                target.hits[path] = target.hits.get(path, 0) + 1
                target.requests.append(
                    {"method": self.command, "path": path, "headers": dict(self.headers), "body": body}
                )
                if path == "/private" and self.headers.get("Authorization") != target.credentials:
                    return self._send(401, b'{"status": "who are you?"}')
                if path == "/away":
                    self.send_response(302)
                    self.send_header("Location", f"http://localhost:{target.port}/ok")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if path in target.overrides:
                    return self._send(target.overrides[path], b'{"status": "broken"}')
                if path.startswith("/slow"):
                    time.sleep(target.slow_seconds)
                    return self._send(200, b'{"status": "ok"}')
                if path.startswith("/hang"):
                    target.stopping.wait(30)
                    return None
                if path == "/fail":
                    return self._send(500, b'{"status": "error"}')
                if path == "/text":
                    return self._send(200, b"hello world", "text/plain")
                return self._send(200, b'{"status": "ok", "checks": {"database": {"up": true}}}')

            do_HEAD = do_GET

            def do_POST(self):
                return self.do_GET(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            do_PUT = do_POST

        # A deep accept backlog: the default (5) drops SYNs under a burst of concurrent probes and
        # the client retries only after a second, which reads as a timeout on a loaded machine.
        server_class = type("Server", (ThreadingHTTPServer,), {"request_queue_size": 128})
        self.server = server_class(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls_cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certfile=str(tls_cert[0]), keyfile=str(tls_cert[1]))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def start(self) -> "ProbeTarget":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def self_signed_certificate(folder: Path, days: int) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 valid for `days` days, made with the openssl CLI."""
    if shutil.which("openssl") is None:
        import pytest

        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-sha256",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            str(days),
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def silent_port() -> tuple[socket.socket, int]:
    """A listening socket that accepts connections and never answers (a hung endpoint)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock, sock.getsockname()[1]
