"""The one-pass decoder of ingest batches against the full validation: for every body, it either
declines (None, and the full path decides) or gives exactly the points the full path gives. It
must never accept what the full path refuses."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from monitoring.ingest import BatchInvalid, points_quick, points_validate
from monitoring.models import Metric

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
URL = "/api/operations/metrics"


def point(**overrides) -> dict:
    return {"name": "orders", "value": 3, "metric_type": "business", "category": "throughput", **overrides}


def full_path(body: bytes):
    try:
        return points_validate(json.loads(body), now=NOW)
    except BatchInvalid:
        return "refused"


GOOD = [
    [point()],
    {"points": [point(), point(value=2.5)]},
    [point(unit="ms", source="web-1", endpoint="api/x", tags={"region": "eu", "n": 3, "ok": True, "f": 1.5})],
    [point(timestamp="2026-12-01T11:00:00+02:00"), point(timestamp="2026-12-01T11:59:00")],
    [point(timestamp=NOW.timestamp() - 60), point(timestamp=int(NOW.timestamp()))],
    [point(value=-(10**300)), point(value=10**300), point(value=0)],
    [point(tags={"k": 2**62}), point(tags={}), point(tags={"big": 10**100})],
    [point(name="ü" * 200), point(source="s" * 100)],
]
DECLINED_BUT_GOOD = [
    # The full path accepts these in its own way; the quick one leaves them to it.
    [point(unit=None)],
    [point(timestamp="2026-12-01")],
    [point(tags={"k": "caf\u00e9"})],
    {"points": [point()], "comment": "extra keys beside points"},
    point(),
]
BAD = [
    [],
    {"points": []},
    {"points": "x"},
    5,
    [point(name="")],
    [point(name="   ")],
    [point(name="x" * 201)],
    [point(name="a\x00b")],
    [point(value=True)],
    [point(value="3")],
    [point(value=10**400)],
    [point(metric_type="nope")],
    [point(category="Bad-Category")],
    [point(category="")],
    [point(unit="u" * 21)],
    [point(endpoint="e" * 201)],
    [point(source=5)],
    [point(tags={"k": "v" * 201})],
    [point(tags={"k" * 51: "v"})],
    [point(tags={f"k{i}": i for i in range(21)})],
    [point(tags={"k": 10**400})],
    [point(tags={"k": [1]})],
    [point(tags=["not", "an", "object"])],
    [point(timestamp=10**20)],
    [point(timestamp=True)],
    [point(timestamp="not a time")],
    [point(timestamp=(NOW + timedelta(hours=2)).isoformat())],
    [point(timestamp=(NOW - timedelta(days=400)).isoformat())],
    [point(extra="field")],
    [point(), "not a point"],
    [{"value": 1, "metric_type": "business", "category": "x"}],
]


@pytest.mark.parametrize("payload", GOOD)
def test_good_batches_are_decoded_in_one_pass_with_the_full_paths_result(payload):
    body = json.dumps(payload, ensure_ascii=False).encode()
    quick = points_quick(body, now=NOW)
    assert quick is not None
    full = full_path(body)
    assert [p._replace(tags_json=json.loads(p.tags_json)) for p in quick] == [
        p._replace(tags_json=json.loads(p.tags_json)) for p in full
    ]


@pytest.mark.parametrize("payload", DECLINED_BUT_GOOD)
def test_what_the_quick_pass_declines_is_left_to_the_full_path(payload):
    body = json.dumps(payload).encode()
    assert points_quick(body, now=NOW) is None
    assert full_path(body) != "refused"


@pytest.mark.parametrize("payload", BAD)
def test_the_quick_pass_never_accepts_what_the_full_path_refuses(payload):
    body = json.dumps(payload).encode()
    assert full_path(body) == "refused"
    assert points_quick(body, now=NOW) is None


def test_a_body_that_is_not_json_is_declined():
    assert points_quick(b'[{"name": "orders",', now=NOW) is None
    assert points_quick(b"", now=NOW) is None


@pytest.mark.django_db
def test_the_api_answers_the_same_through_either_path(staff_token):
    api = APIClient(HTTP_AUTHORIZATION=f"Token {staff_token}")
    quick = [point(value=i, tags={"n": i}) for i in range(3)]
    declined = [point(value=i, unit=None, tags={"n": i}) for i in range(3)]
    assert api.post(URL, quick, format="json").json() == {"written": 3}
    assert api.post(URL, declined, format="json").json() == {"written": 3}
    rows = list(Metric.objects.order_by("id").values_list("value", "unit", "tags"))
    assert rows[:3] == rows[3:] == [(0.0, "", {"n": 0}), (1.0, "", {"n": 1}), (2.0, "", {"n": 2})]
    # A bad batch still gets every error of the full path, with its index, and writes nothing.
    bad = [point(), point(value="x"), point(category="Nope")]
    response = api.post(URL, bad, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"points[1].value", "points[2].category"}
    assert Metric.objects.count() == 6


@pytest.mark.django_db
def test_a_body_in_another_charset_or_type_is_left_to_the_parser(staff_token):
    api = APIClient(HTTP_AUTHORIZATION=f"Token {staff_token}")
    body = json.dumps([point(source="café")]).encode("latin-1")
    response = api.post(URL, body, content_type="application/json; charset=latin-1")
    assert response.status_code == 201, response.content
    assert Metric.objects.get().source == "café"
    assert api.post(URL, b"name=x", content_type="application/x-www-form-urlencoded").status_code == 415
