"""Thin tasks: take ids, call a service, return a one-line summary. Each may run twice
(acks_late, redelivery, a duplicated message): the claims make the second run a no-op."""

import logging

from celery import shared_task

from notifications import outbox
from notifications.environment import channels_sync_from_settings

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def dispatch_message(message_id: int) -> str:
    """Split a message's pending deliveries into id ranges, one send task each."""
    ranges = outbox.message_dispatch(message_id=message_id)
    for index, (first_id, last_id) in enumerate(ranges):
        try:
            send_delivery_range.apply_async((first_id, last_id), retry=False)
        except Exception as exc:  # broker gone: the sweeper sends the rest
            log.warning(
                "message %s: %d of %d ranges not queued (%s)",
                message_id,
                len(ranges) - index,
                len(ranges),
                exc,
            )
            break
    return f"message {message_id}: {len(ranges)} send tasks"


@shared_task(ignore_result=True)
def send_delivery_range(first_id: int, last_id: int) -> str:
    report = outbox.deliveries_send_range(first_id=first_id, last_id=last_id)
    return f"deliveries {first_id}-{last_id}: {report}"


_channels_synced = False


@shared_task(ignore_result=True)
def send_due_deliveries() -> str:
    global _channels_synced
    if not _channels_synced:
        # Once per worker process: the environment's channels exist without a deploy step
        # (sync is idempotent and never changes a channel staff edited).
        try:
            channels_sync_from_settings()
        except Exception as exc:  # a bad channel must not stop deliveries
            log.error("channels from the environment not synced: %s", exc)
        _channels_synced = True
    return f"sweep: {outbox.deliveries_send_due()}"
