from datetime import time

import factory

from reports.models import BusinessCalendar, Report, ResponseTarget, ServiceLevelObjective


class BusinessCalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessCalendar

    name = factory.Sequence(lambda n: f"Office hours {n}")
    time_zone = "Europe/Berlin"
    weekdays = "12345"
    opens_at = time(9, 0)
    closes_at = time(17, 0)


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceLevelObjective

    name = factory.Sequence(lambda n: f"API availability {n}")
    target_percent = "99.9"


class ResponseTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResponseTarget

    severity = "critical"
    acknowledge_minutes = 15
    resolve_minutes = 240


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Report

    name = factory.Sequence(lambda n: f"Monthly report {n}")
    frequency = Report.Frequency.MONTHLY
    recipients = "ops@example.com, cto@example.com"
