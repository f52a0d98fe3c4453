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
    """Stores every accepted mail. Recipients containing "reject" get 550, "later" get 450.
    With `pipelining`, the server advertises PIPELINING as Postfix does (aiosmtpd reads the
    commands of a pipelined group in order from its buffer)."""

    def __init__(self, pipelining: bool = False) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[tuple, list[str]]] = []
        self.lock = threading.Lock()
        self.pipelining = pipelining

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

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


def start_smtp(pipelining: bool = True) -> tuple[Controller, SmtpRecorder]:
    recorder = SmtpRecorder(pipelining=pipelining)
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


class BadPeer:
    """A loopback server that misbehaves on purpose: `answer(conn, peer)` runs once per
    connection, in a thread of its own, after the peer accepted it. Every behaviour stops by
    itself after `lasts` seconds, so a client with no deadline is slow, not hung for ever."""

    def __init__(self, answer, *, lasts: float = 10.0) -> None:
        self.answer, self.lasts = answer, lasts
        self.bytes_sent = 0
        self.connections = 0
        self.stopped = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):  # the client hung up: what these peers wait for
            self.answer(conn, self)

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        self.bytes_sent += len(data)

    def trickle(self, conn: socket.socket, data: bytes, interval: float) -> None:
        """`data` one byte every `interval` seconds, until it or the peer's time runs out."""
        ends = time.monotonic() + self.lasts
        for byte in data:
            if self.stopped.is_set() or time.monotonic() > ends:
                return
            self.send(conn, bytes([byte]))
            time.sleep(interval)

    def stop(self) -> None:
        self.stopped.set()
        self.sock.close()


def read_http_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head


def endless_answer(status: int, *, most: int = 256 * 1024 * 1024):
    """An HTTP answer whose body goes on (up to `most` bytes, as fast as the client reads)."""

    def answer(conn: socket.socket, peer: BadPeer) -> None:
        read_http_request(conn)
        conn.sendall(f"HTTP/1.1 {status} Whatever\r\nContent-Length: {most}\r\n\r\n".encode())
        chunk = b"x" * 65536
        while peer.bytes_sent < most and not peer.stopped.is_set():
            peer.send(conn, chunk)

    return answer


def trickled_headers(interval: float):
    """An HTTP answer with a success's status line at once, then headers that come one byte
    per `interval` and never end."""

    def answer(conn: socket.socket, peer: BadPeer) -> None:
        read_http_request(conn)
        peer.send(conn, b"HTTP/1.1 200 OK\r\n")
        peer.trickle(conn, b"X-Padding: " + b"a" * 1_000_000, interval)

    return answer


def trickled_body(status: int, interval: float):
    """An HTTP answer with its headers at once and then a body of one byte per `interval`."""

    def answer(conn: socket.socket, peer: BadPeer) -> None:
        read_http_request(conn)
        conn.sendall(f"HTTP/1.1 {status} Whatever\r\nContent-Length: 1000000\r\n\r\n".encode())
        peer.trickle(conn, b"x" * 1_000_000, interval)

    return answer


def trickling_smtp(stage: str, interval: float):
    """An SMTP server that speaks normally except at `stage`, where its reply comes one byte per
    `interval` and never ends: "greeting", "data" (the reply to the message) or "quit"."""
    endless_reply = b"-" + b"a" * 1_000_000

    def answer(conn: socket.socket, peer: BadPeer) -> None:
        lines = conn.makefile("rb")

        def reply(code: bytes, text: bytes, now: str) -> None:
            if stage == now:
                peer.trickle(conn, code + endless_reply, interval)
            else:
                peer.send(conn, code + b" " + text + b"\r\n")

        reply(b"220", b"trickle.example ESMTP", "greeting")
        for line in lines:
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                peer.send(conn, b"250 trickle.example\r\n")
            elif verb == b"DATA":
                peer.send(conn, b"354 go ahead\r\n")
                for body_line in lines:
                    if body_line == b".\r\n":
                        break
                reply(b"250", b"accepted", "data")
            elif verb == b"QUIT":
                reply(b"221", b"bye", "quit")
                return
            else:
                peer.send(conn, b"250 OK\r\n")

    return answer
