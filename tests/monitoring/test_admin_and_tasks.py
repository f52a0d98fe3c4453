import pytest
from django.conf import settings

from monitoring import tasks
from monitoring.models import Metric
from tests.monitoring.factories import MetricFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["metric", "minuterollup", "hourrollup", "rollupcursor"])
def test_it_opens_each_admin_changelist_and_search(admin_client, model):
    MetricFactory()
    assert admin_client.get(f"/admin/monitoring/{model}/").status_code == 200
    assert admin_client.get(f"/admin/monitoring/{model}/?q=cpu").status_code == 200


def test_it_runs_the_beat_tasks_and_schedules_them():
    assert tasks.collect_metrics().startswith("collected ")
    assert Metric.objects.exists()
    assert tasks.rollup_metrics().startswith("rollups written")
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["collect_metrics"]["task"] == "monitoring.tasks.collect_metrics"
    assert schedule["rollup_metrics"]["schedule"].total_seconds() == settings.METRIC_ROLLUP_INTERVAL
    assert schedule["purge_old_data"]["schedule"].total_seconds() == settings.PURGE_INTERVAL
