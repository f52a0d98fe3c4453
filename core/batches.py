"""Deletes in batches: each batch its own short transaction, so purging millions of rows never
holds locks for long or bloats the WAL; two purges at once just share the work (a batch already
deleted by the other deletes nothing)."""

from django.db import models, transaction

BATCH_SIZE = 10_000


def delete_in_batches(
    queryset: models.QuerySet, *, batch_size: int = BATCH_SIZE, max_batches: int = 10_000
) -> int:
    """Delete the rows of `queryset` BATCH_SIZE primary keys at a time; returns how many rows
    of the queryset's own model went (rows removed by cascade are not counted)."""
    deleted = 0
    for _ in range(max_batches):
        with transaction.atomic():
            ids = list(queryset.values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            _, per_model = queryset.model.objects.filter(pk__in=ids).delete()
        deleted += per_model.get(queryset.model._meta.label, 0)
        if len(ids) < batch_size:
            break
    return deleted
