"""Django's WSGI application served over granian's RSGI interface.

Why not granian's own WSGI interface, which is a little faster: it hands a request to a Python
thread as soon as the headers are in, and that thread then waits on the body for as long as the
client takes. Twenty clients trickling a POST body would hold every thread and the page would
stop answering. Here the body is read first, on the event loop, within WEB_TIMEOUT seconds and
WEB_MAX_BODY bytes (408 or 413 otherwise, and no thread is ever involved); only a complete
request goes to Django, on a fixed pool of WEB_THREADS threads, each keeping its database
connection from one request to the next.

Streaming responses (the live event stream, CSV exports, static files) are sent a chunk at a
time, each chunk produced on the pool.
"""

import asyncio
import io
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from django.core.handlers.wsgi import WSGIHandler

logger = logging.getLogger(__name__)
STREAM_BLOCK = 64 * 1024
PLAIN = [("content-type", "text/plain; charset=utf-8")]


class BodyTooLarge(Exception):
    pass


class FileWrapper:
    """wsgi.file_wrapper: a file response read in large blocks rather than Django's 4 KiB ones."""

    def __init__(self, filelike, block_size: int = STREAM_BLOCK):
        self.filelike, self.block_size = filelike, block_size

    def __iter__(self):
        while chunk := self.filelike.read(self.block_size):
            yield chunk

    def close(self) -> None:
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()


def _split_address(address: str) -> tuple[str, str]:
    host, _, port = address.rpartition(":")
    return host.removeprefix("[").removesuffix("]"), port


def build_environ(scope, body: bytes) -> dict:
    server_name, server_port = _split_address(scope.server or "")
    environ = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        # WSGI carries the decoded path's bytes as Latin-1 text; RSGI gives it decoded as UTF-8.
        "PATH_INFO": scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": server_name,
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": _split_address(scope.client or "")[0],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": FileWrapper,
    }
    for name, value in scope.headers.items():
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            key = "HTTP_" + key
        if key in environ:  # a repeated header: one value, as WSGI servers join them
            value = f"{environ[key]}{'; ' if key == 'HTTP_COOKIE' else ','}{value}"
        environ[key] = value
    if "HTTP_HOST" not in environ and scope.authority:  # HTTP/2 names the host in :authority
        environ["HTTP_HOST"] = scope.authority
    return environ


class DjangoOverRSGI:
    def __init__(self, wsgi_app=None, *, threads: int, body_timeout: float, max_body: int):
        self.wsgi_app = wsgi_app or WSGIHandler()
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="django")
        self.body_timeout, self.max_body = body_timeout, max_body

    async def __rsgi__(self, scope, proto) -> None:
        if scope.proto != "http":
            return
        headers = scope.headers
        body = b""
        if "content-length" in headers or "transfer-encoding" in headers:
            try:
                body = await asyncio.wait_for(self._read_body(proto, headers), self.body_timeout)
            except TimeoutError:
                proto.response_bytes(408, PLAIN, b"The request body took too long to arrive.\n")
                return
            except BodyTooLarge:
                proto.response_bytes(413, PLAIN, b"The request body is too large.\n")
                return
            except Exception:  # the client went away while sending it
                return
            if body is None:  # it went away before the body was complete
                return
        loop = asyncio.get_running_loop()
        environ = build_environ(scope, body)
        status, response_headers, result = await loop.run_in_executor(self.pool, self._call, environ)
        if isinstance(result, bytes):
            proto.response_bytes(status, response_headers, result)
            return
        await self._stream(loop, proto, status, response_headers, result)

    async def _read_body(self, proto, headers) -> bytes | None:
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise BodyTooLarge
        chunks, size = [], 0
        async for chunk in proto:
            size += len(chunk)
            if size > self.max_body:
                raise BodyTooLarge
            chunks.append(chunk)
        if declared is not None and declared.isdigit() and size != int(declared):
            return None
        return b"".join(chunks)

    def _call(self, environ: dict):
        """On a pool thread: Django's answer, whole unless it streams."""
        started: list = []

        def start_response(status, headers, exc_info=None):
            started[:] = [int(status[:3]), headers]

        result = self.wsgi_app(environ, start_response)
        if getattr(result, "streaming", False) or isinstance(result, FileWrapper):
            return started[0], started[1], result
        try:
            body = b"".join(result)
        finally:
            _close(result)
        return started[0], started[1], body

    async def _stream(self, loop, proto, status: int, headers, result) -> None:
        transport = proto.response_stream(status, headers)
        chunks = iter(result)
        try:
            while (chunk := await loop.run_in_executor(self.pool, next, chunks, None)) is not None:
                if chunk:
                    await transport.send_bytes(chunk)
        except Exception:  # the client went away: stop producing for it
            logger.debug("streaming response ended early", exc_info=True)
        finally:
            await loop.run_in_executor(self.pool, _close, result)


def _close(result) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


def _application() -> DjangoOverRSGI:
    import django

    django.setup(set_prefix=False)
    return DjangoOverRSGI(
        threads=int(os.environ.get("WEB_THREADS", "5")),
        body_timeout=float(os.environ.get("WEB_TIMEOUT", "30")),
        max_body=int(os.environ.get("WEB_MAX_BODY", str(10 * 1024 * 1024))),
    )


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = _application()
