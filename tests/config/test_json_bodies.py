"""JSON bodies Vigil cannot use (nested past any use, unpaired surrogates) answer 400 with a
JSON message wherever a body is read: the API's parser and the views that read one themselves."""

import json

import pytest

from monitoring.models import Metric
from subscribers.models import Subscriber

pytestmark = pytest.mark.django_db

DEEP = "[" * 16384  # Python's decoder raised RecursionError (a 500)
INGEST = "/api/operations/metrics"


def point_json(name: str = "cpu", tags: str = "{}") -> str:
    return f'{{"name": "{name}", "value": 1, "metric_type": "system", "category": "cpu", "tags": {tags}}}'


def test_it_refuses_deep_json_on_the_anonymous_subscribe_endpoint(client):
    response = client.post("/api/status/subscribe", DEEP, "application/json", HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


@pytest.mark.parametrize(
    "url", ["/api/operations/alerts", "/api/operations/integrations/alertmanager", INGEST]
)
def test_it_refuses_deep_json_on_the_api(api, url):
    response = api.generic("POST", url, DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON nested more than 64 levels deep is not accepted."}


def test_it_refuses_json_nested_past_the_limit_even_when_python_could_read_it(api):
    response = api.generic("POST", INGEST, "[" * 65 + "]" * 65, content_type="application/json")
    assert response.status_code == 400 and "nested" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        point_json(name="cpu\\ud800"),
        point_json(tags='{"host": "\\udfff"}'),
        point_json(tags='{"\\ud800": "a"}'),
    ],
    ids=["name", "tag value", "tag key"],
)
def test_it_refuses_an_unpaired_surrogate_on_ingest(api, body):
    response = api.generic("POST", INGEST, body, content_type="application/json")  # was a 500
    assert response.status_code == 400
    assert "surrogate" in response.json()["detail"]
    assert not Metric.objects.exists()


def test_it_still_takes_a_surrogate_pair_which_is_one_character(api):
    response = api.generic(
        "POST", INGEST, point_json(tags='{"mood": "\\ud83d\\ude00"}'), content_type="application/json"
    )
    assert response.status_code == 201
    assert Metric.objects.get().tags == {"mood": "\U0001f600"}


def test_it_refuses_an_unpaired_surrogate_on_subscribe(client):
    body = json.dumps({"email": "ann\ud800@example.com"})  # json.dumps escapes it as \ud800
    response = client.post("/api/status/subscribe", body, "application/json", HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "surrogate" in response.json()["detail"]
    assert not Subscriber.objects.exists()
