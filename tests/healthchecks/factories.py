import factory
from django.utils import timezone

from healthchecks.models import Heartbeat, Probe
from tests.statuspage.factories import ComponentFactory


class HeartbeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Heartbeat

    kind = Heartbeat.Kind.WORKER
    name = factory.Sequence(lambda n: f"celery@host{n}")
    last_seen = factory.LazyFunction(timezone.now)


class ProbeFactory(factory.django.DjangoModelFactory):
    """A probe due now. Pass component__health_check_url to point it at a test server."""

    class Meta:
        model = Probe

    component = factory.SubFactory(ComponentFactory, health_check_url="http://127.0.0.1:9/ok")
    timeout_seconds = 2.0
    degraded_latency_ms = 200
    interval_seconds = 30
    next_due_at = factory.LazyFunction(timezone.now)
