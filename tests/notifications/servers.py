"""Real servers on loopback for the notification tests: an aiosmtpd SMTP server and a small
threaded HTTP receiver that answers as told per path."""

import contextlib
import email
import email.policy
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpRecorder:
    """Stores every accepted mail. Recipients containing "reject" get 550, "later" get 450."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[tuple, list[str]]] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "reject" in address:
            return "550 5.1.1 No such user"
        if "later" in address:
            return "450 4.2.1 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)
            self.envelopes.append((session.peer, list(envelope.rcpt_tos)))
        return "250 Message accepted"

    def recipients(self) -> list[str]:
        return [rcpt for _, rcpts in self.envelopes for rcpt in rcpts]

    def connections(self) -> int:
        return len({peer for peer, _ in self.envelopes})


def start_smtp() -> tuple[Controller, SmtpRecorder]:
    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, recorder


class HttpReceiver:
    """Answers by path: /ok 200, /fail 500, /busy 429 + Retry-After: 120, /gone 404,
    /slow sleeps `slow_seconds` then 200. Records every request."""

    def __init__(self, slow_seconds: float = 2.0) -> None:
        self.requests: list[dict] = []
        self.slow_seconds = slow_seconds
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                        "json": json.loads(body or b"{}"),
                    }
                )
                path = self.path.split("?")[0]
                if path == "/slow":
                    time.sleep(receiver.slow_seconds)
                status, headers = {
                    "/fail": (500, {}),
                    "/busy": (429, {"Retry-After": "120"}),
                    "/gone": (404, {}),
                }.get(path, (200, {}))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                payload = b"ok" if status == 200 else b"nope"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client timed out and left
                    self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
