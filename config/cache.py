"""A Redis cache that degrades to a miss when Redis is down.

The status page must keep serving from the database during a Redis outage (visitors come
exactly when something is broken), so cache errors are logged and treated as misses instead
of turning every page into a 500. The readiness check still sees the outage: its write-then-read
round trip comes back empty.
"""

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


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


class ResilientRedisCache(RedisCache):
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
