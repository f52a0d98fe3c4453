"""The agent's on-disk queue of results not yet accepted by the server: a SQLite file in its
data directory (the standard library's sqlite3, no server database), oldest first, capped by
count. Past the cap the oldest results are dropped and the count is logged."""

import json
import logging
import sqlite3
from pathlib import Path

logger = logging.getLogger("vigil.agent")


class ResultQueue:
    def __init__(self, path: Path, max_results: int) -> None:
        self.max_results = max_results
        self.dropped = 0
        self._db = sqlite3.connect(path, isolation_level=None)  # autocommit: each write is durable
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS result (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT)"
        )

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM result").fetchone()[0]

    def append(self, results: list[dict]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO result (body) VALUES (?)", [(json.dumps(r),) for r in results])
            over = len(self) - self.max_results
            if over > 0:
                self._db.execute(
                    "DELETE FROM result WHERE seq IN (SELECT seq FROM result ORDER BY seq LIMIT ?)", (over,)
                )
        if over > 0:
            self.dropped += over
            logger.warning(
                "queue full (%d results): dropped the %d oldest (%d dropped so far)",
                self.max_results,
                over,
                self.dropped,
            )

    def oldest(self, count: int) -> tuple[int, list[dict]]:
        """The oldest `count` results and the sequence number of the last one (0 when empty)."""
        rows = self._db.execute("SELECT seq, body FROM result ORDER BY seq LIMIT ?", (count,)).fetchall()
        return (rows[-1][0] if rows else 0), [json.loads(body) for _, body in rows]

    def remove_through(self, seq: int) -> None:
        self._db.execute("DELETE FROM result WHERE seq <= ?", (seq,))

    def close(self) -> None:
        self._db.close()
