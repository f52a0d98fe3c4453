"""A loopback webhook receiver for URL subscribers: answers a challenge as told, records every
request (with its parsed JSON), and can be slow or answer anything else on purpose."""

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """`mode`: "echo" (answers the challenge as plain text), "json" (as {"challenge": ...}),
    "wrong" (200 with another body), "slow" (sleeps `slow_seconds`, then echoes),
    "fail" (500), "ok" (200 "ok", what Slack answers), "accepted" (202, no body: Teams)."""

    def __init__(self, mode: str = "echo", slow_seconds: float = 5.0) -> None:
        self.mode, self.slow_seconds = mode, slow_seconds
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                data = json.loads(body or b"{}")
                with receiver.lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body, "json": data}
                    )
                mode = receiver.mode
                if mode == "slow":
                    time.sleep(receiver.slow_seconds)
                challenge = str(data.get("challenge", "")) if isinstance(data, dict) else ""
                status, answer = {
                    "echo": (200, challenge.encode()),
                    "slow": (200, challenge.encode()),
                    "json": (200, json.dumps({"challenge": challenge}).encode()),
                    "wrong": (200, b"hello"),
                    "fail": (500, b"broken"),
                    "accepted": (202, b""),
                }.get(mode, (200, b"ok"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up and left
                    self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def deliveries(self) -> list[dict]:
        """The incident and maintenance posts (not challenges, not component updates)."""
        return [
            r
            for r in self.requests
            if r["headers"].get("X-Vigil-Event", "").startswith(("incident.", "maintenance."))
        ]

    def component_updates(self) -> list[dict]:
        return [r for r in self.requests if r["headers"].get("X-Vigil-Event") == "component.updated"]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
