"""The agent's command line: `vigil-agent` (a console script, no Django project needed) and
`manage.py probe_agent` parse the same arguments and run the same Agent."""

import argparse
import logging
import os
import signal
import socket
import sys
from pathlib import Path


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigil-agent", description="Run Vigil probes from this location.")
    add_arguments(p)
    return p


def add_arguments(p) -> None:
    env = os.environ.get
    p.add_argument("--server", default=env("VIGIL_AGENT_SERVER"), help="The Vigil server's base URL.")
    p.add_argument(
        "--key", default=env("VIGIL_AGENT_KEY"), help="The location's agent key (or VIGIL_AGENT_KEY)."
    )
    p.add_argument(
        "--data-dir",
        default=env("VIGIL_AGENT_DATA_DIR", "./vigil-agent-data"),
        help="Where the result queue and the last probe list are kept.",
    )
    p.add_argument(
        "--interval",
        type=float,
        default=None,
        help="Seconds between runs of each probe (default: each probe's own interval).",
    )
    p.add_argument("--concurrency", type=int, default=16, help="Probes run at once.")
    p.add_argument("--batch-size", type=int, default=1000, help="Results per POST (the server caps it).")
    p.add_argument("--queue-max", type=int, default=100_000, help="Results kept while the server is away.")
    p.add_argument("--refresh", type=float, default=60.0, help="Seconds between probe-list checks.")
    p.add_argument(
        "--allow-network",
        action="append",
        default=None,
        help="A network probes may reach despite the outbound rule (PROBE_ALLOWED_NETWORKS); repeatable.",
    )
    p.add_argument("--name", default=socket.gethostname(), help="This agent's name, shown on its key.")


def options_from(args):
    from healthchecks.agents.client import AgentOptions

    if not args.server or not args.key:
        raise SystemExit(
            "vigil-agent: --server and --key are required (or VIGIL_AGENT_SERVER, VIGIL_AGENT_KEY)"
        )
    return AgentOptions(
        server=args.server,
        key=args.key,
        data_dir=Path(args.data_dir),
        interval=args.interval,
        concurrency=max(1, args.concurrency),
        batch_size=max(1, args.batch_size),
        queue_max=max(1, args.queue_max),
        refresh_seconds=max(1.0, args.refresh),
        name=args.name[:100],
    )


def run(args) -> int:
    """Run an agent until SIGTERM or SIGINT; the exit status."""
    from healthchecks.agents.client import Agent

    agent = Agent(options_from(args))

    def stop(signum, frame):
        logging.getLogger("vigil.agent").info("signal %d: stopping after the current step", signum)
        agent.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return agent.run()


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The probe code reads one setting, the outbound rule; no project settings, no database.
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            USE_TZ=True,
            PROBE_ALLOWED_NETWORKS=args.allow_network or [],
            WEBHOOK_ALLOWED_NETWORKS=[],
        )
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
