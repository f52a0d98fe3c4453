"""The agents' API: keys, the probe list with its ETag, result batches counted once, and the
quorum of locations a component's status follows; the staff API of locations and keys."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alerts.models import Alert
from healthchecks.agents.models import AgentKey, ProbeLocation, ProbeLocationState
from healthchecks.agents.services import agent_key_revoke, quorum_set
from healthchecks.agents.silence import locations_check_silent
from healthchecks.models import ProbeResult
from healthchecks.probes.services import probes_claim_due
from statuspage.models import ComponentStatus
from tests.healthchecks.agent_helpers import bearer, location_with_key, result, results_in_a_row
from tests.healthchecks.factories import ProbeFactory

pytestmark = pytest.mark.django_db


def post_results(client, secret, results):
    return client.post(
        "/api/agent/results", {"results": results}, content_type="application/json", **bearer(secret)
    )


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)


# --- keys -----------------------------------------------------------------------------------


def test_it_refuses_a_missing_wrong_or_revoked_key_with_401(client):
    location, secret = location_with_key("Frankfurt")
    assert client.get("/api/agent/probes").status_code == 401
    wrong = client.get("/api/agent/probes", **bearer("not-a-key"))
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/agent/probes", **bearer(secret)).status_code == 200
    agent_key_revoke(key=AgentKey.objects.get(location=location))
    assert client.get("/api/agent/probes", **bearer(secret)).status_code == 401
    assert post_results(client, secret, []).status_code == 401


def test_it_keeps_only_the_digest_and_records_last_seen(client):
    location, secret = location_with_key("Paris")
    key = AgentKey.objects.get(location=location)
    assert secret not in (key.key_digest, key.prefix + "x") and len(key.key_digest) == 64
    response = client.post(
        "/api/agent/register", {"name": "probe-1"}, content_type="application/json", **bearer(secret)
    )
    assert response.status_code == 200
    assert response.json()["location"]["slug"] == "paris"
    key.refresh_from_db()
    assert key.last_seen_address == "127.0.0.1"
    assert key.last_seen_at is not None and key.name == "probe-1"


def test_staff_make_a_key_that_is_shown_once(api):
    location = api.post("/api/operations/probe-locations", {"name": "Tokyo"}, format="json").json()
    assert location["slug"] == "tokyo"
    made = api.post("/api/operations/agent-keys", {"location": location["id"], "name": "edge"}, format="json")
    assert made.status_code == 201
    secret = made.json()["key"]
    listed = api.get("/api/operations/agent-keys").json()["results"]
    assert listed[0]["prefix"] == secret[:8] and "key" not in listed[0]
    assert Client().get("/api/agent/probes", **bearer(secret)).status_code == 200
    revoked = api.post(f"/api/operations/agent-keys/{made.json()['id']}/revoke")
    assert revoked.json()["revoked_at"] is not None
    assert Client().get("/api/agent/probes", **bearer(secret)).status_code == 401


def test_a_second_location_with_the_same_name_is_a_400_naming_it(api):
    api.post("/api/operations/probe-locations", {"name": "Tokyo"}, format="json")
    again = api.post("/api/operations/probe-locations", {"name": "Tokyo"}, format="json")
    assert again.status_code == 400
    assert "name" in again.json()["errors"]


# --- the probe list -------------------------------------------------------------------------


def test_it_lists_the_locations_probes_with_an_etag_and_answers_304_when_unchanged(client):
    location, secret = location_with_key("Oslo")
    mine = ProbeFactory(kind="tcp", host="127.0.0.1", port=8080, component__health_check_url="")
    mine.locations.add(location)
    ProbeFactory()  # the server's own
    first = client.get("/api/agent/probes", **bearer(secret))
    assert [p["probe_id"] for p in first.json()["probes"]] == [mine.pk]
    assert first.json()["probes"][0]["port"] == 8080
    again = client.get("/api/agent/probes", HTTP_IF_NONE_MATCH=first["ETag"], **bearer(secret))
    assert again.status_code == 304 and again.content == b""
    mine.port = 8081
    mine.save()
    changed = client.get("/api/agent/probes", HTTP_IF_NONE_MATCH=first["ETag"], **bearer(secret))
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_the_server_no_longer_claims_probes_assigned_to_locations():
    location, _ = location_with_key("Oslo")
    remote = ProbeFactory()
    remote.locations.add(location)
    local = ProbeFactory()
    assert [p.pk for p in probes_claim_due()] == [local.pk]


# --- results --------------------------------------------------------------------------------


def test_a_resent_batch_is_stored_and_counted_once(client):
    location, secret = location_with_key("Oslo")
    probe = ProbeFactory()
    probe.locations.add(location)
    batch = results_in_a_row(probe, "failed", 2)
    assert post_results(client, secret, batch).json()["accepted"] == 2
    again = post_results(client, secret, batch).json()
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    assert ProbeResult.objects.filter(probe=probe, location=location).count() == 2
    assert ProbeLocationState.objects.get(probe=probe, location=location).consecutive_failures == 2


def test_results_keep_their_own_times(client):
    location, secret = location_with_key("Oslo")
    probe = ProbeFactory()
    probe.locations.add(location)
    at = timezone.now() - timedelta(hours=2)
    post_results(client, secret, [result(probe, at=at)])
    assert ProbeResult.objects.get(probe=probe).checked_at == at


def test_results_for_probes_of_other_locations_are_ignored(client):
    _, secret = location_with_key("Oslo")
    other, _ = location_with_key("Rome")
    probe = ProbeFactory()
    probe.locations.add(other)
    body = post_results(client, secret, [result(probe)]).json()
    assert (body["accepted"], body["ignored"]) == (0, 1)
    assert not ProbeResult.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "nope"}, "results[0].id"),
        ({"probe": "7"}, "results[0].probe"),
        ({"verdict": "sideways"}, "results[0].verdict"),
        ({"checked_at": "yesterday"}, "results[0].checked_at"),
        ({"checked_at": "2026-01-01T00:00:00"}, "results[0].checked_at"),
        ({"latency_ms": -1}, "results[0].latency_ms"),
        ({"status_code": 42}, "results[0].status_code"),
    ],
)
def test_a_bad_result_is_a_400_naming_it(client, change, field):
    location, secret = location_with_key("Oslo")
    probe = ProbeFactory()
    probe.locations.add(location)
    response = post_results(client, secret, [{**result(probe), **change}])
    assert response.status_code == 400
    assert field in str(response.json())
    assert not ProbeResult.objects.exists()


def test_a_batch_over_the_cap_is_a_400(client, settings):
    settings.AGENT_BATCH_MAX = 100
    location, secret = location_with_key("Oslo")
    probe = ProbeFactory()
    probe.locations.add(location)
    response = post_results(client, secret, [result(probe) for _ in range(101)])
    assert response.status_code == 400
    assert "at most 100" in str(response.json())


# --- quorum ---------------------------------------------------------------------------------


def three_locations(probe):
    located = [location_with_key(name) for name in ("Oslo", "Rome", "Lima")]
    for location, _ in located:
        probe.locations.add(location)
    return located


def report(client, located, verdicts, probe, rounds=3):
    for (_, secret), verdict in zip(located, verdicts, strict=True):
        assert post_results(client, secret, results_in_a_row(probe, verdict, rounds)).status_code == 200


def test_two_of_three_locations_down_take_the_component_down_and_alert(client):
    probe = ProbeFactory(failures_before_down=3)
    located = three_locations(probe)
    report(client, located, ["failed", "failed", "ok"], probe)
    probe.component.refresh_from_db()
    assert probe.component.status == ComponentStatus.MAJOR_OUTAGE
    assert Alert.objects.open().filter(fingerprint=f"probe:{probe.component_id}").count() == 1
    report(client, located, ["ok", "ok", "ok"], probe)
    probe.component.refresh_from_db()
    assert probe.component.status == ComponentStatus.OPERATIONAL
    assert not Alert.objects.open().filter(fingerprint=f"probe:{probe.component_id}").exists()


def test_one_of_three_locations_down_leaves_the_component_up(client):
    probe = ProbeFactory(failures_before_down=3)
    located = three_locations(probe)
    report(client, located, ["failed", "ok", "ok"], probe)
    probe.component.refresh_from_db()
    assert probe.component.status == ComponentStatus.OPERATIONAL
    assert not Alert.objects.open().filter(fingerprint=f"probe:{probe.component_id}").exists()
    assert ProbeLocationState.objects.get(location=located[0][0]).verdict == ComponentStatus.MAJOR_OUTAGE


def test_a_component_quorum_of_one_goes_down_with_any_location(client):
    probe = ProbeFactory(failures_before_down=3)
    located = three_locations(probe)
    quorum_set(component=probe.component, locations_required=1)
    report(client, located, ["failed", "ok", "ok"], probe)
    probe.component.refresh_from_db()
    assert probe.component.status == ComponentStatus.MAJOR_OUTAGE


def test_a_silent_location_raises_its_own_alert_and_flips_no_component(client):
    probe = ProbeFactory(failures_before_down=3, interval_seconds=30)
    located = three_locations(probe)
    report(client, located, ["failed", "ok", "ok"], probe)
    silent_one = located[1][0]
    # Rome stops reporting; the others go on (Oslo still failing, Lima fine).
    later = timezone.now() + timedelta(seconds=200)
    ProbeLocation.objects.exclude(pk=silent_one.pk).update(last_result_at=later)
    assert locations_check_silent(now=later) == 1
    alert = Alert.objects.open().get(fingerprint=f"agent-location:{silent_one.pk}")
    assert "Rome" in alert.title
    assert locations_check_silent(now=later) == 0  # one alert per location
    probe.component.refresh_from_db()
    assert probe.component.status == ComponentStatus.OPERATIONAL
    # Its stale "ok" no longer counts: Oslo down, Lima up is 1 of 2, still no majority.
    report(client, [located[0], located[2]], ["failed", "ok"], probe, rounds=1)
    probe.component.refresh_from_db()
    assert probe.component.status == ComponentStatus.OPERATIONAL
    # Back again: the alert resolves.
    report(client, [located[1]], ["ok"], probe, rounds=1)
    assert not Alert.objects.open().filter(fingerprint=f"agent-location:{silent_one.pk}").exists()
    assert not ProbeLocation.objects.get(pk=silent_one.pk).is_silent


def test_the_servers_own_probe_counts_as_one_location(client):
    component_probe = ProbeFactory(failures_before_down=1)
    remote = ProbeFactory(component=component_probe.component, kind="tcp", host="127.0.0.1", port=9)
    located = [location_with_key("Oslo")]
    remote.locations.add(located[0][0])
    component_probe.verdict = ComponentStatus.MAJOR_OUTAGE  # the server's probe finds it down
    component_probe.save()
    report(client, located, ["ok"], remote)
    component_probe.component.refresh_from_db()
    # 1 of 2 locations down: no majority.
    assert component_probe.component.status == ComponentStatus.OPERATIONAL
    report(client, located, ["failed"], remote, rounds=3)
    component_probe.component.refresh_from_db()
    assert component_probe.component.status == ComponentStatus.MAJOR_OUTAGE


def test_staff_credentials_are_no_agent_key(staff_user, staff_token):
    """The agents' writes take an agent key only: a staff token or session is a 401 there."""
    for path in ("/api/agent/register", "/api/agent/results"):
        assert (
            Client(enforce_csrf_checks=True)
            .post(path, {}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {staff_token}")
            .status_code
            == 401
        )
        session = Client(enforce_csrf_checks=True)
        session.force_login(staff_user)
        assert session.post(path, {}, content_type="application/json").status_code == 401
