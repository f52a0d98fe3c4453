"""The production web server: granian (HTTP in Rust, on tokio) serving config.wsgi.

Chosen by measurement (bench/statuspage_surge.py runs it beside the gunicorn line it replaced):
the cached home page costs Django some 60 µs of CPU, and gunicorn's Python HTTP handling cost
several times that, so granian serves the same code at a multiple of gunicorn's rate with a
lower tail. Slow and endless clients are parked in Rust, not in a Python worker.

    python -m config.web            # what the Procfile's web line runs

Read from the environment (bad values stop it at once, naming the variable):
    VIGIL_BIND        host:port, [v6]:port            default 127.0.0.1:8000
    WEB_CONCURRENCY   worker processes                default 2
    WEB_THREADS       request threads per worker      default 2 x cores + 1
    ACCESS_LOG        1 or 0: a line per request (config/access_log.py)   default 1
    WEB_TIMEOUT       seconds a client may take to send its headers, and a stopping worker
                      to finish what it serves before it is killed          default 30

What the gunicorn line did and how it is kept:
- a line per request goes to the log through config/redact.py's filter (config/access_log.py);
- SIGHUP respawns the workers one by one, gracefully (a code or settings reload);
- SIGTERM and SIGINT stop them gracefully, killing a worker after WEB_TIMEOUT;
- a worker that dies is started again.
"""

import os
import sys

from granian import Granian
from granian.constants import Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels

LOG_LEVELS = {level.value for level in LogLevels}


class BadSetting(Exception):
    pass


def parse_bind(value: str) -> tuple[str, int]:
    host, separator, port = value.rpartition(":")
    if not separator or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BadSetting(f"VIGIL_BIND must be host:port (e.g. 127.0.0.1:8000 or [::]:8000), not {value!r}")
    return host.removeprefix("[").removesuffix("]"), int(port)


def _positive(environ, name: str, default: int) -> int:
    raw = environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or int(raw) < 1:
        raise BadSetting(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def log_config() -> dict:
    """granian's own messages (start, stop, worker respawns) through the secrets filter too."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "config.redact.RedactSecrets"}},
        "formatters": {"generic": {"format": "%(asctime)s %(levelname)s granian: %(message)s"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "generic", "filters": ["redact"]}
        },
        "loggers": {"_granian": {"handlers": ["console"], "level": "INFO", "propagate": False}},
    }


def default_threads() -> int:
    """granian's own bound for Python threads per worker: more only queue on the interpreter lock."""
    return 2 * (os.cpu_count() or 1) + 1


def server(environ=os.environ) -> Granian:
    """The server, after checking its settings and passing them on to the workers' environment
    (config/rsgi.py reads them there)."""
    host, port = parse_bind(environ.get("VIGIL_BIND", "").strip() or "127.0.0.1:8000")
    timeout = _positive(environ, "WEB_TIMEOUT", 30)
    workers = _positive(environ, "WEB_CONCURRENCY", 2)
    for name, value in (
        ("WEB_THREADS", _positive(environ, "WEB_THREADS", default_threads())),
        ("WEB_MAX_BODY", _positive(environ, "WEB_MAX_BODY", 10 * 1024 * 1024)),
        ("WEB_TIMEOUT", timeout),
        ("ACCESS_LOG", "1" if environ.get("ACCESS_LOG", "").strip() in ("", "1") else "0"),
    ):
        environ[name] = str(value)
    level = (environ.get("LOG_LEVEL", "").strip() or "info").lower()
    if level not in LOG_LEVELS:
        raise BadSetting(f"LOG_LEVEL must be one of {', '.join(sorted(LOG_LEVELS))}, not {level!r}")
    return Granian(
        "config.rsgi:application",
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        workers=workers,
        backlog=2048,
        http1_settings=HTTP1Settings(header_read_timeout=timeout * 1000),
        log_level=LogLevels(level),
        log_dictconfig=log_config(),
        # The access log is Django's (config/access_log.py), much cheaper than granian's.
        log_access=False,
        respawn_failed_workers=True,
        workers_kill_timeout=timeout,
    )


def main() -> int:
    try:
        web = server()
    except BadSetting as error:
        print(f"Vigil web server: {error}", file=sys.stderr)
        return 2
    web.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
