import pickle
from datetime import timedelta

import pytest

from config.beat import RuntimeIntervalScheduler
from config.runtime_config import config_update


@pytest.fixture
def scheduler(tmp_path):
    from config.celery import app

    beat = RuntimeIntervalScheduler(app=app, schedule_filename=str(tmp_path / "schedule"))
    yield beat
    beat.close()


@pytest.mark.django_db(transaction=True)  # the scheduler closes stale connections, as in its own process
def test_it_retimes_jobs_when_staff_change_an_interval(scheduler):
    config_update(values={"alert_check_interval_seconds": 90})
    assert scheduler.apply_runtime_intervals() == ["evaluate_alerts"]
    assert scheduler.schedule["evaluate_alerts"].schedule.run_every == timedelta(seconds=90)
    assert scheduler.schedule["evaluate_alerts"].options["expires"] == 90
    assert scheduler.apply_runtime_intervals() == []  # nothing changed since


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_environment_intervals_without_a_config_row(scheduler, settings):
    assert scheduler.apply_runtime_intervals() == []
    assert scheduler.schedule["collect_metrics"].schedule.run_every == timedelta(
        seconds=settings.METRIC_COLLECTION_INTERVAL
    )


def test_it_keeps_running_when_its_schedule_file_cannot_be_saved(scheduler, monkeypatch):
    def removed_under_it():
        raise FileNotFoundError(2, "No such file or directory", "celerybeat-schedule.dir")

    with monkeypatch.context() as patch:
        patch.setattr(scheduler._store, "sync", removed_under_it)
        scheduler.sync()  # logged, not raised: the beat goes on
        assert scheduler.tick() >= 0


class TornStore(dict):
    """A schedule file another beat is half-way through writing: every read of it fails."""

    def __getitem__(self, key):
        raise pickle.UnpicklingError("pickle data was truncated")

    def sync(self):
        pass

    def close(self):
        pass


def test_it_keeps_its_entries_when_another_beat_is_writing_the_file(scheduler, monkeypatch):
    entries = dict(scheduler.schedule)
    assert "evaluate_alerts" in entries
    monkeypatch.setattr(scheduler, "_store", TornStore())
    assert set(scheduler.schedule) == set(entries)  # logged, not raised: the beat goes on
    assert scheduler.tick() >= 0
