from celery import shared_task

from monitoring.collection import metrics_collect
from monitoring.partitions import metric_partitions_ensure
from monitoring.rollups import metrics_rollup


@shared_task(ignore_result=True)
def collect_metrics() -> str:
    return f"collected {len(metrics_collect())} points"


@shared_task(ignore_result=True)
def rollup_metrics() -> str:
    written = metrics_rollup()
    return f"rollups written: {written['minute']} minute, {written['hour']} hour"


@shared_task(ignore_result=True)
def partition_metrics() -> str:
    created = metric_partitions_ensure()
    return f"metric partitions created: {', '.join(created) or 'none'}"
