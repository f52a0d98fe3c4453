import factory
from django.utils import timezone

from monitoring.models import Metric, MetricCategory, MetricType


class MetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Metric

    metric_type = MetricType.SYSTEM
    category = MetricCategory.CPU_USAGE
    name = "system.cpu_percent"
    value = 50.0
    unit = "%"
    source = "host-a"
    endpoint = ""
    tags = factory.LazyFunction(dict)
    timestamp = factory.LazyFunction(timezone.now)
