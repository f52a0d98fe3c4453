"""Fixed-window counters in the shared cache, for the throttles of config/: the public JSON
(throttling.py), failed admin logins (login_throttle.py) and failed API tokens
(authentication.py).

One counter per key and window (the window's number is part of the cache key, so a new window
starts from zero without anything deleting the old one). core.cache.count_in_window is one
atomic round trip on Redis. A cache that is down counts nothing (ResilientRedisCache reads errors
as misses): better to let requests through than to refuse everyone."""

import time

from django.conf import settings
from django.core.cache import cache

from core.cache import count_in_window
from core.http import client_address  # noqa: F401  (the throttles' notion of a client)


def exempt(address: str) -> bool:
    """THROTTLE_EXEMPT_IPS (loopback by default): behind a local proxy that does not pass the
    client's address, every visitor would share one counter, and one could lock out all."""
    return address in settings.THROTTLE_EXEMPT_IPS


def _slot(key: str, window: int, now: float) -> tuple[str, int]:
    start = int(now // window) * window
    return f"ratelimit:{key}:{start}", start


def hit(key: str, *, window: int, now: float | None = None) -> int:
    """Count one event in the current window of `key`; returns the count so far (0 when the
    cache is down: nothing is limited then)."""
    now = time.time() if now is None else now
    full_key, _ = _slot(key, window, now)
    return count_in_window(full_key, window + 5) or 0


def count(key: str, *, window: int, now: float | None = None) -> int:
    now = time.time() if now is None else now
    full_key, _ = _slot(key, window, now)
    return cache.get(full_key) or 0


def retry_after(*, window: int, now: float | None = None) -> int:
    """Seconds until the current window ends (at least 1)."""
    now = time.time() if now is None else now
    return max(1, int(int(now // window) * window + window - now))


def clear(key: str, *, window: int, now: float | None = None) -> None:
    now = time.time() if now is None else now
    cache.delete(_slot(key, window, now)[0])
