"""A loopback endpoint that answers one byte per second, in a process of its own.

A process of its own so that the test process's threads and open files are the probe's alone
(psutil counts them). `/headers` trickles the status line and headers; `/body` sends the headers
at once and trickles a long body; `/ok` answers at once (a healthy endpoint in the same round).
A connection the client drops ends at the next byte.

    python tests/healthchecks/trickle.py   # prints the port, serves until stdin closes
"""

import asyncio
import subprocess
import sys
from pathlib import Path

HEALTHY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n"


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        request_line = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n", 1)[0]
        if b" /ok " in request_line:
            writer.write(HEALTHY)
            await writer.drain()
            return
        trickled = HEAD + b"x" * 100_000
        if b" /body " in request_line:
            writer.write(HEAD)
            trickled = b"x" * 100_000
        for byte in trickled:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(1)
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def _serve() -> None:
    server = await asyncio.start_server(_answer, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


class TricklingTarget:
    def __enter__(self) -> "TricklingTarget":
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__))], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.port = int(self.process.stdout.readline())
        return self

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __exit__(self, *exc_info) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


if __name__ == "__main__":
    asyncio.run(_serve())
