import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.batches import delete_in_batches
from monitoring import retention
from monitoring.models import HourRollup, Metric, MinuteRollup
from tests.monitoring.factories import MetricFactory

pytestmark = pytest.mark.django_db


def _rollup(model, age: timedelta):
    return model.objects.create(
        bucket_start=timezone.now() - age,
        name="n",
        metric_type="system",
        category="cpu_usage",
        count=1,
        total=1,
        minimum=1,
        maximum=1,
    )


def test_it_purges_raw_points_past_retention_and_keeps_the_rest(settings):
    settings.METRICS_RETENTION_DAYS = 30
    now = timezone.now()
    for days in (31, 40, 29):
        MetricFactory(timestamp=now - timedelta(days=days))
    assert retention.metrics_purge(now)["raw metric points"] == 2
    assert Metric.objects.count() == 1


def test_it_deletes_in_batches(django_assert_max_num_queries):
    old = timezone.now() - timedelta(days=90)
    MetricFactory.create_batch(7, timestamp=old)
    deleted = delete_in_batches(Metric.objects.filter(timestamp__lt=timezone.now()), batch_size=3)
    assert deleted == 7 and not Metric.objects.exists()


def test_it_keeps_hour_rollups_for_thirteen_months_and_minute_rollups_shorter(settings):
    settings.METRIC_MINUTE_ROLLUP_RETENTION_DAYS = 14
    _rollup(MinuteRollup, timedelta(days=15))
    _rollup(MinuteRollup, timedelta(days=13))
    _rollup(HourRollup, timedelta(days=200))
    _rollup(HourRollup, timedelta(days=400))
    out = io.StringIO()
    call_command("purge_old_data", stdout=out)
    assert MinuteRollup.objects.count() == 1 and HourRollup.objects.count() == 1
    assert "purged 1 minute rollups" in out.getvalue() and "purged 1 hour rollups" in out.getvalue()
