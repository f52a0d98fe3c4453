from config.cache import ResilientRedisCache


def test_it_treats_an_unreachable_redis_as_a_miss(closed_port):
    cache = ResilientRedisCache(
        f"redis://127.0.0.1:{closed_port}/0",
        {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}},
    )
    cache.set("page", "html")
    assert cache.get("page", "fallback") == "fallback"
    assert cache.get_many(["a", "b"]) == {}
