"""The Redis broker transport, with one kombu bug worked around.

kombu 5.7's Redis transport, after a lost connection, tears down its transport and then still
uses the old channel: closing it requeues the unacknowledged messages (acks_late: every running
task), and a task that finishes later acknowledges its message on it. Both build a client from
the torn-down transport and raise AttributeError ("'NoneType' object has no attribute
'hostname"), which Celery does not expect: the worker logs "Unrecoverable error" and exits (under
honcho, the Procfile, web and beat stop with it). Seen in tests/faults: Redis killed while a
worker runs a task.

Here the old channel raises a connection error instead, which kombu and Celery handle as they
should: the close goes on, the late acknowledgement is logged, and the worker reconnects. Nothing
is lost: those messages stay in Redis's unacked set until the visibility timeout (or went with a
Redis that keeps nothing), and the work they stood for is in the database, where the beat
sweepers find it.
"""

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise RedisConnectionError("this broker connection was closed after it was lost")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
