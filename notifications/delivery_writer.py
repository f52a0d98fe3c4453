"""Writing messages and their deliveries: any number of each, in a fixed number of queries.

A fan-out to every subscriber runs inside the producer's transaction (posting an incident
update), and an escalation sweep writes a message per person it pages, so the speed of these
writes is how long the request, the sweep and their row locks last. Both go through
core.copy_insert (COPY on PostgreSQL, bulk_create elsewhere): the rows are consumed as a stream,
so memory stays flat, and a repeated recipient (same idempotency key) or a repeated message
(same dedup_key) is a no-op rather than an error.
"""

from collections.abc import Iterable
from datetime import datetime

from core.copy_insert import copy_insert
from notifications.models import Delivery, Message

# What a producer sets per row; the other columns start the same for every new delivery.
COLUMNS = (
    "message_id",
    "channel_id",
    "kind",
    "recipient",
    "context",
    "idempotency_key",
    "attempt_limit",
    "next_attempt_at",
    "give_up_at",
    "created_at",
    "person_id",
)
MESSAGE_COLUMNS = ("kind", "subject", "template", "context", "severity", "dedup_key", "created_at", "thread")


def write_deliveries(rows: Iterable[tuple], now: datetime) -> None:
    """Insert the rows: tuples in COLUMNS order, `context` a dict."""
    constants = {"status": Delivery.Status.PENDING, "attempts": 0, "last_error": "", "updated_at": now}
    copy_insert(Delivery, COLUMNS, rows, constants=constants, conflict="idempotency_key")


def write_messages(rows: Iterable[tuple]) -> None:
    """Insert the rows (tuples in MESSAGE_COLUMNS order, `context` a dict) whose dedup_key is new."""
    copy_insert(Message, MESSAGE_COLUMNS, rows, conflict="dedup_key")
