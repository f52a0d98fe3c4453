import factory
from django.utils import timezone

from healthchecks.models import Heartbeat


class HeartbeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Heartbeat

    kind = Heartbeat.Kind.WORKER
    name = factory.Sequence(lambda n: f"celery@host{n}")
    last_seen = factory.LazyFunction(timezone.now)
