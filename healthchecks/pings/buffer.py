"""The ping buffer: in service mode a ping by UUID is one Redis round trip, and a worker applies
the buffered pings to the database in batches, each exactly once.

A job's ping is the most frequent write Vigil takes, and most are a plain "still alive". With
the buffer, the ping view asks one Lua script to push the ping on a Redis list, but only for a
key known to belong to a check (a set of ping keys, filled by pings that took the database path
and emptied of deleted checks), and only while the list is under PING_BUFFER_MAX. Any other ping
(an unknown key, a full buffer, Redis down, a slug URL, a ping with a body) takes the database
path as before, so a lost Redis costs speed, never a ping answered wrongly.

The first ping after an idle moment sends the `flush_pings` task. The flusher, under a Redis
lock, moves up to PING_BUFFER_BATCH pings to a processing list stamped with a batch id (or
resumes the one a crashed flusher left), applies them with check_ping at their own arrival
times in one transaction that also records the batch id (unique), then drops the processing
list. A redelivered task, a second flusher after the lock expired, or a crash between the
commit and the drop finds the batch id taken and applies nothing twice. The heartbeat sweep
drains the buffer before it judges any check overdue.

Redis keeps the buffer in memory only: a Redis crash loses the pings of the last moment (at
most PING_BUFFER_BATCH-sized batches not yet flushed, usually under a second's worth).
"""

import json
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from alerts.notify import announcements_batched
from core.cache import redis_client
from healthchecks.pings.models import Ping, PingBufferBatch

logger = logging.getLogger(__name__)

# A flush runs this long at most, then leaves the rest to the next (the lock outlives it).
FLUSH_BUDGET_SECONDS = 20
LOCK_MILLISECONDS = 60_000
# While set, a flush is queued or running: pings in between send no further task.
PENDING_MILLISECONDS = 5_000
# Long enough that no crashed flusher's batch outlives its id's row.
BATCHES_KEPT = timedelta(days=1)

_PUSH = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[3]) then return -1 end
redis.call('RPUSH', KEYS[2], ARGV[2])
if redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[4]) then return 2 end
return 1
"""
# The batch a crashed flusher left, else the next one from the queue, stamped with ARGV[2].
_TAKE = """
local items = redis.call('LRANGE', KEYS[2], 0, -1)
if #items > 0 then return {redis.call('GET', KEYS[3]), items} end
items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items == 0 then return {false, items} end
redis.call('LTRIM', KEYS[1], #items, -1)
redis.call('RPUSH', KEYS[2], unpack(items))
redis.call('SET', KEYS[3], ARGV[2])
return {ARGV[2], items}
"""
_DONE = """
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[1], KEYS[2]) return 1 end
return 0
"""
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _key(name: str) -> str:
    return cache.make_and_validate_key(f"pings:buffer:{name}")


class _Scripts:
    """Registered once per client: EVALSHA afterwards, reloaded by redis-py after a flush."""

    def __init__(self):
        self.client = None

    def get(self, client):
        if self.client is not client:
            self.push, self.take = client.register_script(_PUSH), client.register_script(_TAKE)
            self.done, self.unlock = client.register_script(_DONE), client.register_script(_UNLOCK)
            self.client = client
        return self


_scripts = _Scripts()


def _client():
    if not settings.PING_BUFFER:
        return None
    return redis_client()


def buffer_ping(
    *, ping_key, kind: str, exit_status: int | None, method: str, remote_addr: str, user_agent: str
) -> bool:
    """Whether the ping was buffered (the caller answers OK); False: take the database path."""
    client = _client()
    if client is None:
        return False
    item = json.dumps(
        [str(ping_key), kind, exit_status, time.time(), method[:8], remote_addr[:64], user_agent[:200]],
        separators=(",", ":"),
    )
    try:
        pushed = _scripts.get(client).push(
            keys=[_key("known"), _key("queue"), _key("pending")],
            args=[str(ping_key), item, settings.PING_BUFFER_MAX, PENDING_MILLISECONDS],
            client=client,
        )
    except (RedisError, OSError) as exc:
        logger.warning("ping buffer unavailable, pinging the database directly: %s", exc)
        return False
    if pushed == 2:
        _send_flush()
    return pushed > 0


def _send_flush() -> None:
    from healthchecks.tasks import flush_pings as flush_task

    try:
        flush_task.apply_async(expires=60)
    except Exception as exc:  # the sweep drains the buffer too; a broker outage loses nothing
        logger.warning("ping flush not sent (the sweep will flush): %s", exc)


def buffer_learn(ping_keys) -> None:
    """These keys belong to checks: their next pings may be buffered."""
    _set_members("SADD", ping_keys)


def buffer_forget(ping_keys) -> None:
    """These checks are gone: their pings must reach the database path and its 404."""
    _set_members("SREM", ping_keys)


def _set_members(command: str, ping_keys) -> None:
    client = _client()
    members = [str(key) for key in ping_keys]
    if client is None or not members:
        return
    try:
        client.execute_command(command, _key("known"), *members)
    except (RedisError, OSError) as exc:
        logger.warning("ping buffer key set not updated: %s", exc)


def buffered_count() -> int:
    client = _client()
    if client is None:
        return 0
    try:
        return int(client.llen(_key("queue"))) + int(client.llen(_key("processing")))
    except (RedisError, OSError):
        return 0


def _apply(items: list[bytes]) -> int:
    from healthchecks.pings.fast_path import success_pings_fast
    from healthchecks.pings.services import check_ping

    pings = []
    for raw in items:
        key, kind, exit_status, at, method, remote_addr, user_agent = json.loads(raw)
        pings.append(
            {
                "ping_key": uuid.UUID(key),
                "kind": kind,
                "exit_status": exit_status,
                "at": datetime.fromtimestamp(at, tz=UTC),
                "method": method,
                "remote_addr": remote_addr,
                "user_agent": user_agent,
            }
        )
    # Most buffered pings are plain successes: those go in one statement, check by check; a
    # check with anything else in the batch takes check_ping for each ping, in arrival order.
    mixed = {ping["ping_key"] for ping in pings if ping["kind"] != Ping.Kind.SUCCESS}
    done = success_pings_fast([ping for ping in pings if ping["ping_key"] not in mixed])
    applied = sum(1 for ping in pings if ping["ping_key"] in done)
    for ping in pings:
        if ping["ping_key"] in done:
            continue
        recorded = check_ping(
            ping_key=ping["ping_key"],
            kind=ping["kind"],
            exit_status=ping["exit_status"],
            method=ping["method"],
            remote_addr=ping["remote_addr"],
            user_agent=ping["user_agent"],
            now=ping["at"],
        )
        if recorded is None:
            buffer_forget([str(ping["ping_key"])])
        else:
            applied += 1
    return applied


def _apply_batch(batch_id: str, items: list[bytes]) -> int | None:
    """Apply one batch with its id in the same transaction; None when it was applied before.
    A ping that cannot be applied (it would fail every time) is logged and left out, alone."""
    with announcements_batched():
        try:
            return _record_and_apply(batch_id, items, one_by_one=False)
        except IntegrityError:
            if PingBufferBatch.objects.filter(batch_id=batch_id).exists():
                return None
            logger.exception("a buffered ping batch failed; applying its pings one by one")
        except Exception:
            logger.exception("a buffered ping batch failed; applying its pings one by one")
        try:
            return _record_and_apply(batch_id, items, one_by_one=True)
        except IntegrityError:
            return None


def _record_and_apply(batch_id: str, items: list[bytes], *, one_by_one: bool) -> int:
    with transaction.atomic():
        PingBufferBatch.objects.create(batch_id=batch_id, pings=len(items))
        if not one_by_one:
            return _apply(items)
        applied = 0
        for raw in items:
            try:
                with transaction.atomic():
                    applied += _apply([raw])
            except Exception:
                logger.exception("buffered ping dropped, it cannot be applied: %r", raw[:300])
        return applied


def flush_pings(*, budget_seconds: float = FLUSH_BUDGET_SECONDS) -> dict[str, int]:
    """Apply buffered pings until the buffer is empty or the budget is spent. Safe to run in
    several workers at once and to run again: each batch is applied once."""
    client = _client()
    done = {"batches": 0, "pings": 0, "skipped": 0}
    if client is None:
        return done
    scripts = _scripts.get(client)
    lock, token = _key("lock"), uuid.uuid4().hex
    deadline = time.monotonic() + budget_seconds
    try:
        while time.monotonic() < deadline:
            if not client.set(lock, token, nx=True, px=LOCK_MILLISECONDS):
                break  # another flusher is at it, and it looks again before it stops
            try:
                _drain(client, scripts, deadline, done)
            finally:
                scripts.unlock(keys=[lock], args=[token], client=client)
            # A ping pushed while the flag was still set sent no task: look once more.
            client.delete(_key("pending"))
            if not client.llen(_key("queue")):
                break
    except (RedisError, OSError) as exc:
        logger.warning("ping buffer flush stopped, the rest waits in Redis: %s", exc)
    if done["batches"]:
        PingBufferBatch.objects.filter(applied_at__lt=timezone.now() - BATCHES_KEPT).delete()
    return done


def _drain(client, scripts, deadline: float, done: dict) -> None:
    keys = [_key("queue"), _key("processing"), _key("processing_id")]
    while time.monotonic() < deadline:
        batch_id, items = scripts.take(
            keys=keys, args=[settings.PING_BUFFER_BATCH, uuid.uuid4().hex], client=client
        )
        if not items:
            return
        batch_id = batch_id.decode() if isinstance(batch_id, bytes) else str(batch_id)
        applied = _apply_batch(batch_id, items)
        scripts.done(keys=keys[1:], args=[batch_id], client=client)
        done["batches"] += 1
        if applied is None:
            done["skipped"] += len(items)
        else:
            done["pings"] += applied
