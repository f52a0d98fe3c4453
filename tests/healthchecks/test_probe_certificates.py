"""TLS certificate expiry: read once a day on its own connection, warned at 21, 14 and 7 days."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert
from healthchecks.models import Probe
from healthchecks.probes.http import Outcome
from healthchecks.probes.services import cert_fingerprint, probe_outcomes_apply, probes_run_due
from tests.healthchecks.factories import ProbeFactory
from tests.healthchecks.servers import ProbeTarget, self_signed_certificate

pytestmark = pytest.mark.django_db


@pytest.fixture
def tls_target(tmp_path):
    server = ProbeTarget(tls_cert=self_signed_certificate(tmp_path, days=10)).start()
    yield server
    server.stop()


def test_it_records_days_left_and_warns_at_the_14_day_threshold(tls_target):
    probe = ProbeFactory(component__health_check_url=tls_target.url("/ok"))
    probes_run_due()
    probe.refresh_from_db()
    assert probe.cert_days_left in (9, 10)
    assert probe.cert_checked_at is not None
    alert = Alert.objects.get(fingerprint=cert_fingerprint(probe, 14))
    assert alert.severity == "medium"
    assert "expires in" in alert.title


def test_it_reads_the_certificate_at_most_once_a_day(tls_target):
    probe = ProbeFactory(component__health_check_url=tls_target.url("/ok"))
    probes_run_due()
    first = Probe.objects.get().cert_checked_at
    Probe.objects.update(next_due_at=timezone.now())
    probes_run_due()
    assert Probe.objects.get().cert_checked_at == first
    Probe.objects.update(next_due_at=timezone.now(), cert_checked_at=first - timedelta(hours=25))
    probes_run_due()
    assert Probe.objects.get().cert_checked_at > first
    assert Alert.objects.filter(fingerprint__startswith=f"probe-cert:{probe.pk}:").count() == 1


def _cert_outcome(probe, days_left: float) -> Outcome:
    return Outcome(
        probe_id=probe.pk,
        checked_at=timezone.now(),
        ok=True,
        latency_ms=5,
        cert_checked=True,
        cert_expires_at=timezone.now() + timedelta(days=days_left, hours=1),
    )


@pytest.mark.parametrize(("days", "threshold"), [(30, None), (21, 21), (15, 21), (14, 14), (7, 7), (2, 7)])
def test_it_picks_the_tightest_threshold_crossed(days, threshold):
    probe = ProbeFactory()
    probe_outcomes_apply(probes={probe.pk: probe}, outcomes=[_cert_outcome(probe, days)], now=timezone.now())
    fingerprints = list(Alert.objects.open().values_list("fingerprint", flat=True))
    assert fingerprints == ([cert_fingerprint(probe, threshold)] if threshold else [])


def test_it_supersedes_looser_warnings_and_resolves_all_on_renewal():
    probe = ProbeFactory()
    for days in (20, 13, 6):
        probe_outcomes_apply(
            probes={probe.pk: probe}, outcomes=[_cert_outcome(probe, days)], now=timezone.now()
        )
    assert list(Alert.objects.open().values_list("fingerprint", flat=True)) == [cert_fingerprint(probe, 7)]
    assert Alert.objects.count() == 3
    probe_outcomes_apply(probes={probe.pk: probe}, outcomes=[_cert_outcome(probe, 89)], now=timezone.now())
    assert not Alert.objects.open().exists()
    assert Probe.objects.get().cert_days_left == 89
