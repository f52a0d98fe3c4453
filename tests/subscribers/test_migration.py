"""Subscribers moved from the statuspage app to their own: the rows, their component choices and
the permissions stay as they were."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("statuspage", "0002_subscribers"), ("subscribers", None)]


@pytest.mark.django_db(transaction=True)
def test_it_keeps_every_subscriber_and_its_components_across_the_move():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state([("statuspage", "0002_subscribers")]).apps
    component = old.get_model("statuspage", "Component").objects.create(name="API")
    subscriber = old.get_model("statuspage", "Subscriber").objects.create(
        email="a@example.com", status="confirmed"
    )
    subscriber.components.set([component])

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from subscribers.models import Subscriber

    moved = Subscriber.objects.get()
    assert (moved.email, moved.status) == ("a@example.com", "confirmed")
    assert list(moved.components.values_list("name", flat=True)) == ["API"]
