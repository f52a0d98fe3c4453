"""Run the Procfile under honcho, as the demo does, giving every process time to stop by itself.

honcho sends SIGTERM and kills whatever still runs 5 s later, a wait its command line cannot
change. A Celery worker on the embedded (filesystem) broker needs 5-8 s: its consumer notices
the stop between 2-second polls of the broker folder, and its timer thread is joined after that.
Killed, it would leave its pool behind to be reaped. So the wait is longer here; processes that
stop sooner end sooner.

    python -m config.procfile Procfile
"""

import sys

import honcho.manager
from honcho.command import main

STOP_SECONDS = 20


def run(procfile: str) -> None:
    honcho.manager.KILL_WAIT = STOP_SECONDS
    main(["start", "-f", procfile])


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else "Procfile")
