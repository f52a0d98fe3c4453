import pytest
from django.core.cache import caches

from core.cache import ResilientRedisCache, count_in_window


def test_it_treats_an_unreachable_redis_as_a_miss(closed_port):
    cache = ResilientRedisCache(
        f"redis://127.0.0.1:{closed_port}/0",
        {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}},
    )
    cache.set("page", "html")
    assert cache.get("page", "fallback") == "fallback"
    assert cache.get_many(["a", "b"]) == {}


def test_it_counts_hits_in_a_window():
    assert [count_in_window("window-test", 60) for _ in range(3)] == [1, 2, 3]
    assert count_in_window("another-window", 60) == 1


def test_it_counts_in_the_file_cache_too(settings, tmp_path):
    backend = "django.core.cache.backends.filebased.FileBasedCache"
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": str(tmp_path)}}
    assert [count_in_window("window-test", 60) for _ in range(3)] == [1, 2, 3]


def test_it_counts_nothing_when_redis_is_down(settings, closed_port):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert count_in_window("window-test", 60) is None


def _redis():
    cache = caches["default"]
    if not isinstance(cache, ResilientRedisCache):
        pytest.skip("needs Redis (service mode)")
    return cache


def test_it_expires_a_redis_window_after_its_timeout():
    cache = _redis()
    count_in_window("window-test", 30)
    count_in_window("window-test", 30)
    key = cache.make_and_validate_key("window-test")
    assert 0 < cache._cache.get_client(key).ttl(key) <= 30
    assert cache.get("window-test") == 2  # the counter reads back through the cache API


def test_it_reuses_one_redis_client_per_pool():
    # Django's own client builds a redis.Redis per call, which costs more CPU than the call.
    cache = _redis()
    assert cache._cache.get_client("a") is cache._cache.get_client("b", write=True)
