"""A loopback stand-in for the push and chat providers: it records each request and answers
with the provider's documented shapes, from a script of answers the test queues (then the
provider's usual success)."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, body: object, **headers: str) -> "Answer":
        return cls(status, json.dumps(body).encode(), {"Content-Type": "application/json", **headers})


class ProviderServer:
    def __init__(self, success: Answer) -> None:
        self.success = success
        self.script: list[Answer] = []
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                form = "x-www-form-urlencoded" in self.headers.get("Content-Type", "")
                with server.lock:
                    server.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": body,
                            "json": None if form or not body else json.loads(body),
                            # Twilio's requests (and form-encoded gateways): the fields, one value each.
                            "form": {
                                k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()
                            }
                            if form
                            else {},
                        }
                    )
                    answer = server.script.pop(0) if server.script else server.success
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_PUT = do_POST
            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def then(self, *answers: Answer) -> "ProviderServer":
        self.script.extend(answers)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}"

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


# A title that tries every format's injection at once: Markdown, mentions, HTML, JSON and quotes.
HOSTILE_TITLE = (
    '**bold** _it_ `code` [link](https://evil.example) @everyone <b>x</b></script> "}, {"q": \'1\' & \\'
)


def page(**overrides):
    """A critical alert message to every enabled channel."""
    from notifications.services import message_enqueue

    arguments = {
        "kind": "alert.firing",
        "subject": "Disk almost full on db-1",
        "context": {"body": "Disk at 93 %", "url": "https://vigil.example/admin/alerts/alert/7/change/"},
        "severity": "critical",
        "dedup_key": "alert:7:fired",
        **overrides,
    }
    return message_enqueue(**arguments)


def send_twice():
    """Send what is due, then again once the retry is due."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from notifications.services import deliveries_send_due

    deliveries_send_due()
    with time_machine.travel(timezone.now() + timedelta(minutes=30)):
        deliveries_send_due()
