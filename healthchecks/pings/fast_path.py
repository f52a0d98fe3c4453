"""The commonest ping in one statement. A success on a simple check that is new, up or late and
has no run in progress changes nothing but the check's times and state: nothing is raised or
resolved, no component moves. On PostgreSQL that is one UPDATE ... RETURNING feeding one INSERT,
a single round trip that is atomic on its own (the UPDATE takes the row lock, and a concurrent
ping's UPDATE re-checks the row after it), instead of a locked read, two writes and a
transaction. Anything else, and any other database, takes check_ping's general path; the
service-mode tests run every heartbeat test through both."""

from datetime import datetime

from django.db import connection

from healthchecks.pings.models import Check, Ping

_FAST_STATES = (Check.State.NEW, Check.State.UP, Check.State.LATE)
_SQL = f"""
WITH pinged AS (
    UPDATE {Check._meta.db_table}
       SET state = %(up)s,
           last_ping_at = %(now)s,
           due_at = %(now)s + make_interval(secs => period_seconds),
           alert_after = %(now)s + make_interval(secs => period_seconds + grace_seconds)
     WHERE ping_key = %(key)s AND kind = %(simple)s AND started_at IS NULL
       AND state IN ({", ".join(f"'{state}'" for state in _FAST_STATES)})
 RETURNING id
)
INSERT INTO {Ping._meta.db_table} (check_id, kind, exit_status, at, method, remote_addr, user_agent, body)
SELECT id, %(success)s, %(exit_status)s, %(now)s, %(method)s, %(remote_addr)s, %(user_agent)s, %(body)s
  FROM pinged
RETURNING id, check_id
"""


def success_ping_fast(
    *,
    ping_key,
    exit_status: int | None,
    now: datetime,
    method: str,
    remote_addr: str,
    user_agent: str,
    body: str,
) -> Ping | None:
    """The recorded ping, or None when this check needs the general path (or does not exist)."""
    if connection.vendor != "postgresql":
        return None
    values = {
        "up": Check.State.UP,
        "simple": Check.Kind.SIMPLE,
        "success": Ping.Kind.SUCCESS,
        "key": ping_key,
        "now": now,
        "exit_status": exit_status,
        "method": method,
        "remote_addr": remote_addr,
        "user_agent": user_agent,
        "body": body,
    }
    with connection.cursor() as cursor:
        cursor.execute(_SQL, values)
        row = cursor.fetchone()
    if row is None:
        return None
    return Ping(
        id=row[0],
        check_ref_id=row[1],
        kind=Ping.Kind.SUCCESS,
        exit_status=exit_status,
        at=now,
        method=method,
        remote_addr=remote_addr,
        user_agent=user_agent,
        body=body,
    )


_BATCH_SQL = f"""
WITH batch AS (
    SELECT * FROM unnest(%(keys)s::uuid[], %(exit_statuses)s::integer[], %(ats)s::timestamptz[],
                         %(methods)s::text[], %(remote_addrs)s::text[], %(user_agents)s::text[])
        AS b(ping_key, exit_status, at, method, remote_addr, user_agent)
), latest AS (
    SELECT ping_key, max(at) AS at FROM batch GROUP BY ping_key
), pinged AS (
    UPDATE {Check._meta.db_table} AS c
       SET state = %(up)s,
           last_ping_at = latest.at,
           due_at = latest.at + make_interval(secs => c.period_seconds),
           alert_after = latest.at + make_interval(secs => c.period_seconds + c.grace_seconds)
      FROM latest
     WHERE c.ping_key = latest.ping_key AND c.kind = %(simple)s AND c.started_at IS NULL
       AND c.state IN ({", ".join(f"'{state}'" for state in _FAST_STATES)})
 RETURNING c.id, c.ping_key
), recorded AS (
    INSERT INTO {Ping._meta.db_table} (check_id, kind, exit_status, at, method, remote_addr, user_agent, body)
    SELECT pinged.id, %(success)s, batch.exit_status, batch.at, batch.method, batch.remote_addr,
           batch.user_agent, ''
      FROM batch JOIN pinged ON pinged.ping_key = batch.ping_key
     ORDER BY batch.at
)
SELECT ping_key FROM pinged
"""


def success_pings_fast(pings: list[dict]) -> set:
    """Many buffered success pings (no body) in one statement: each check that the single-ping
    fast path would take gets all of its pings recorded and its times moved to the latest one.
    Returns the ping keys applied; the caller sends the others through check_ping. Every ping of
    a key must be a success: a batch mixing a start or a failure in needs check_ping's order."""
    if connection.vendor != "postgresql" or not pings:
        return set()
    values = {
        "up": Check.State.UP,
        "simple": Check.Kind.SIMPLE,
        "success": Ping.Kind.SUCCESS,
        **{
            column: [ping[field] for ping in pings]
            for column, field in (
                ("keys", "ping_key"),
                ("exit_statuses", "exit_status"),
                ("ats", "at"),
                ("methods", "method"),
                ("remote_addrs", "remote_addr"),
                ("user_agents", "user_agent"),
            )
        },
    }
    with connection.cursor() as cursor:
        cursor.execute(_BATCH_SQL, values)
        return {row[0] for row in cursor.fetchall()}
