from celery import shared_task

from monitoring.collection import metrics_collect
from monitoring.retention import old_data_purge
from monitoring.rollups import metrics_rollup


@shared_task(ignore_result=True)
def collect_metrics() -> str:
    return f"collected {len(metrics_collect())} points"


@shared_task(ignore_result=True)
def rollup_metrics() -> str:
    written = metrics_rollup()
    return f"rollups written: {written['minute']} minute, {written['hour']} hour"


@shared_task(ignore_result=True)
def purge_old_data() -> str:
    return "purged " + ", ".join(f"{count} {what}" for what, count in old_data_purge())
