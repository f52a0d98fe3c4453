from datetime import timedelta

import factory
from django.utils import timezone

from statuspage.models import Component, ComponentGroup, Maintenance


class ComponentGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ComponentGroup

    name = factory.Sequence(lambda n: f"Group {n}")
    position = factory.Sequence(int)


class ComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Component

    name = factory.Sequence(lambda n: f"Component {n}")
    position = factory.Sequence(int)
    created_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=120))
    status_changed_at = factory.SelfAttribute("created_at")


class MaintenanceFactory(factory.django.DjangoModelFactory):
    """A bare scheduled row; tests that need the service's side effects call maintenance_schedule."""

    class Meta:
        model = Maintenance

    title = factory.Sequence(lambda n: f"Maintenance {n}")
    scheduled_for = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))
    scheduled_until = factory.LazyAttribute(lambda o: o.scheduled_for + timedelta(hours=2))
