"""The on-call API: schedules (CRUD with nested layers and overrides), who is on call, roles."""

from datetime import UTC, datetime, time

import pytest
import time_machine
from rest_framework.test import APIClient

from oncall.models import Schedule
from tests.config.factories import role_user
from tests.oncall.factories import daily_layer, person, schedule

pytestmark = pytest.mark.django_db
ALICE = "<alice>"  # placeholder in the cases below, replaced by her id


@pytest.fixture
def people():
    return person("alice"), person("bob")


def body(alice, bob, **change):
    return {
        "name": "Primary",
        "time_zone": "Europe/Berlin",
        "layers": [
            {
                "level": 1,
                "rotation": "daily",
                "starts_on": "2025-03-01",
                "handoff_time": "09:00",
                "members": [alice.pk, bob.pk],
            }
        ],
        "overrides": [],
        **change,
    }


def test_it_creates_a_schedule_with_layers_in_member_order(api, people):
    alice, bob = people
    response = api.post("/api/operations/oncall/schedules", body(bob, alice), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["layers"][0]["members"] == [bob.pk, alice.pk]
    layer = Schedule.objects.get().layers.get()
    assert [m.user for m in layer.memberships.all()] == [bob, alice]


def test_it_replaces_the_layers_and_keeps_the_overrides_on_a_patch_without_them(api, people):
    alice, bob = people
    created = api.post("/api/operations/oncall/schedules", body(alice, bob), format="json").json()
    override = {"user": bob.pk, "starts_at": "2025-03-05T10:00:00Z", "ends_at": "2025-03-05T12:00:00Z"}
    api.patch(f"/api/operations/oncall/schedules/{created['id']}", {"overrides": [override]}, format="json")
    layers = [{**body(alice, bob)["layers"][0], "members": [bob.pk], "level": 3}]
    response = api.patch(
        f"/api/operations/oncall/schedules/{created['id']}", {"layers": layers}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert [(layer["level"], layer["members"]) for layer in response.json()["layers"]] == [(3, [bob.pk])]
    assert len(response.json()["overrides"]) == 1


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", "is not a time zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone", "is not a time zone"),
        (
            {"layers": [{"level": 1, "starts_on": "2025-03-01", "handoff_time": "09:00", "members": []}]},
            "layers",
            "A layer needs at least one person.",
        ),
        (
            {
                "layers": [
                    {
                        "level": 1,
                        "rotation": "hours",
                        "starts_on": "2025-03-01",
                        "handoff_time": "09:00",
                        "members": [ALICE],
                    }
                ]
            },
            "layers",
            "needs the number of hours",
        ),
        (
            {
                "layers": [
                    {
                        "level": 1,
                        "starts_on": "2025-03-01",
                        "handoff_time": "09:00",
                        "members": [ALICE],
                        "restrict_from": "09:00",
                    }
                ]
            },
            "layers",
            "both ends",
        ),
        (
            {
                "layers": [
                    {
                        "level": 1,
                        "starts_on": "2025-03-01",
                        "handoff_time": "09:00",
                        "members": [ALICE],
                        "restrict_weekdays": [7],
                    }
                ]
            },
            "layers",
            "less than or equal to 6",
        ),
        (
            {
                "overrides": [
                    {"user": ALICE, "starts_at": "2025-03-05T12:00:00Z", "ends_at": "2025-03-05T10:00:00Z"}
                ]
            },
            "overrides",
            "ends after it starts",
        ),
        (
            {
                "layers": [
                    {"level": 1, "starts_on": "2025-03-01", "handoff_time": "09:00", "members": [999999]}
                ]
            },
            "layers",
            "Invalid pk",
        ),
    ],
)
def test_it_refuses_bad_input_with_a_clear_400(api, people, change, field, text):
    alice, bob = people
    payload = body(alice, bob, **change)
    for item in [*payload.get("layers", []), *payload.get("overrides", [])]:
        if item.get("members") == [ALICE]:
            item["members"] = [alice.pk]
        if item.get("user") == ALICE:
            item["user"] = alice.pk
    response = api.post("/api/operations/oncall/schedules", payload, format="json")
    assert response.status_code == 400, response.json()
    assert text in " ".join(response.json()["errors"][field]), response.json()
    assert not Schedule.objects.exists()


@pytest.mark.parametrize(
    ("field", "item"),
    [
        ("layers", {"level": 1, "starts_on": "0001-01-01", "handoff_time": "00:30"}),
        ("overrides", {"starts_at": "0001-01-01T00:00:00Z", "ends_at": "2025-03-05T10:00:00Z"}),
    ],
)
def test_it_refuses_dates_outside_the_years_a_schedule_answers_for(api, people, field, item):
    alice, bob = people
    item = {**item, "members": [alice.pk]} if field == "layers" else {**item, "user": alice.pk}
    response = api.post(
        "/api/operations/oncall/schedules", body(alice, bob, **{field: [item]}), format="json"
    )
    assert response.status_code == 400
    assert "Give a date between 1900 and 9000." in response.json()["errors"][field][0]


def test_it_refuses_two_layers_on_one_level(api, people):
    alice, bob = people
    payload = body(alice, bob)
    payload["layers"] *= 2
    response = api.post("/api/operations/oncall/schedules", payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["layers"] == ["Each layer needs its own level."]


def test_it_deletes_a_schedule_with_its_layers(api, people):
    alice, bob = people
    created = schedule(layers=[daily_layer(alice, bob)])
    assert api.delete(f"/api/operations/oncall/schedules/{created.pk}").status_code == 204
    assert not Schedule.objects.exists()


@time_machine.travel(datetime(2025, 3, 29, 10, tzinfo=UTC), tick=False)
def test_it_answers_who_is_on_call_now_and_next(api, people):
    alice, bob = people
    schedule(layers=[daily_layer(alice, bob, starts_on=datetime(2025, 3, 29).date())])
    response = api.get("/api/operations/oncall")
    assert response.status_code == 200
    [answer] = response.json()["schedules"]
    assert answer["now"] == {"user": {"id": alice.pk, "username": "alice"}, "until": "2025-03-30T07:00:00Z"}
    assert answer["next"]["user"]["username"] == "bob"
    assert answer["next"]["ends_at"] == "2025-03-31T07:00:00Z"  # 09:00 Berlin, summer time


def test_it_answers_for_the_instant_asked_and_says_when_nobody_is_on_call(api, people):
    alice, _ = people
    schedule(layers=[daily_layer(alice, restrict_from=time(9), restrict_to=time(17))])
    response = api.get("/api/operations/oncall", {"at": "2025-03-05T20:00:00+01:00"})
    [answer] = response.json()["schedules"]
    assert answer["now"] == {"user": None, "until": "2025-03-06T08:00:00Z"}
    assert answer["next"]["user"]["username"] == "alice"


@pytest.mark.parametrize(
    "at",
    [
        "yesterday",
        "2025-13-01T00:00:00Z",
        "2025-03-05T10:00:00+24:00",
        # The day before and the 35 days after would leave the years a date can hold.
        "0001-01-01T00:00:00Z",
        "9999-12-31T00:00:00Z",
    ],
)
def test_it_refuses_an_instant_that_is_not_one(api, at):
    response = api.get("/api/operations/oncall", {"at": at})
    assert response.status_code == 400
    assert response.json()["errors"]["at"]


@pytest.mark.parametrize(
    ("role", "read", "write"), [("viewer", 200, 403), ("operator", 200, 403), ("administrator", 200, 201)]
)
def test_it_lets_every_role_read_and_administrators_write(people, role, read, write):
    alice, bob = people
    client = APIClient()
    client.force_authenticate(role_user(role))
    assert client.get("/api/operations/oncall").status_code == read
    assert client.get("/api/operations/oncall/schedules").status_code == read
    assert (
        client.post("/api/operations/oncall/schedules", body(alice, bob), format="json").status_code == write
    )


def test_it_refuses_staff_without_a_role_and_anonymous():
    client = APIClient()
    assert client.get("/api/operations/oncall").status_code == 401
    client.force_authenticate(role_user("staff"))
    assert client.get("/api/operations/oncall").status_code == 403
