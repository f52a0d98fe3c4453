"""A Redis cache that degrades to a miss when Redis is down.

The status page must keep serving from the database during a Redis outage (visitors come
exactly when something is broken), so cache errors are logged and treated as misses instead
of turning every page into a 500. The readiness check still sees the outage: its write-then-read
round trip comes back empty.
"""

import logging

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# INCR, and on the first hit EXPIRE: a fixed-window counter in one atomic command.
_WINDOW_INCR = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def _tolerant(method_name: str, fallback):
    parent = getattr(RedisCache, method_name)

    def method(self, *args, **kwargs):
        try:
            return parent(self, *args, **kwargs)
        except (RedisError, OSError) as exc:
            logger.warning("cache %s failed, treated as a miss: %s", method_name, exc)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

    method.__name__ = method_name
    return method


def _default_arg(key, default=None, *args, **kwargs):
    return default


class _OneClientPerPool(RedisCacheClient):
    """Django's client builds a new redis.Redis object for every call, which costs more CPU than
    the round trip itself (it copies the response-callback table each time). A redis.Redis is
    thread-safe over its connection pool, so one per pool does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _OneClientPerPool
        self._window_script = None

    get = _tolerant("get", _default_arg)
    get_many = _tolerant("get_many", lambda *a, **k: {})
    set = _tolerant("set", None)
    set_many = _tolerant("set_many", lambda data, *a, **k: list(data))
    add = _tolerant("add", False)
    delete = _tolerant("delete", False)
    delete_many = _tolerant("delete_many", None)
    touch = _tolerant("touch", False)
    has_key = _tolerant("has_key", False)
    incr = _tolerant("incr", None)
    clear = _tolerant("clear", None)

    def incr_window(self, key: str, timeout: int) -> int | None:
        """One more hit on a counter that expires `timeout` s after its first: one atomic round
        trip, where add() + incr() take three. None when Redis is unavailable."""
        key = self.make_and_validate_key(key)
        try:
            client = self._cache.get_client(key, write=True)
            if self._window_script is None:
                self._window_script = client.register_script(_WINDOW_INCR)
            return int(self._window_script(keys=[key], args=[int(timeout)], client=client))
        except (RedisError, OSError) as exc:
            logger.warning("cache incr_window failed, counted nothing: %s", exc)
            return None


def count_in_window(key: str, timeout: int) -> int | None:
    """Count one hit on a fixed-window counter in the shared cache and return the count, or None
    when the cache is unavailable (callers then limit nothing: better than refusing everyone).
    Redis does it in one round trip; other caches (the embedded file cache) with add + incr."""
    counter = getattr(cache, "incr_window", None)
    if counter is not None:
        return counter(key, timeout)
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        return 1 if cache.add(key, 1, timeout=timeout) else None


def redis_client():
    """The shared cache's own redis.Redis (its pool, its timeouts), for work a cache API cannot
    express in one round trip; None when the cache is not Redis (embedded mode)."""
    backend = caches["default"]
    if not isinstance(backend, ResilientRedisCache):
        return None
    return backend._cache.get_client(write=True)
