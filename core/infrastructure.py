"""Readings of the database and the broker that both metric collection and the health checks take."""

import os
import time
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection
from kombu import Connection


def database_details() -> dict:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
        round_trip_ms = round((time.perf_counter() - started) * 1000, 2)
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            open_connections = cursor.fetchone()[0]
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        else:
            cursor.execute("SELECT sqlite_version()")
            version = cursor.fetchone()[0]
            open_connections = None
    return {
        "vendor": connection.vendor,
        "round_trip_ms": round_trip_ms,
        "open_connections": open_connections,
        "server_version": version,
    }


def queue_depth(queue: str = "celery") -> int:
    """Messages waiting in a Celery queue; raises if the broker cannot be reached."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        if not os.access(folder, os.W_OK):
            raise RuntimeError(f"broker folder {folder} is not writable")
        return sum(1 for entry in os.scandir(folder) if entry.name.endswith(f".{queue}.msg"))
    if url.startswith(("redis://", "rediss://")):
        timeout = settings.HEALTH_CHECK_TIMEOUT
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return int(client.llen(queue))
        finally:
            client.close()
    with Connection(url, connect_timeout=settings.HEALTH_CHECK_TIMEOUT) as conn:
        conn.ensure_connection(max_retries=1)
        return conn.default_channel.queue_declare(queue, passive=True).message_count
