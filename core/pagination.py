"""The admin paginator for big tables (metrics, deliveries, probe results)."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CheapPaginator(Paginator):
    """COUNT(*) over millions of rows is slow on PostgreSQL: count at most COUNT_CAP rows
    (SELECT COUNT(*) FROM (... LIMIT n)); past that the admin shows "10000+" pages' worth."""

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: COUNT_CAP + 1].count()
