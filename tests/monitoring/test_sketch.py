import random

import pytest
from django.db.models import Value

from monitoring import sketch
from monitoring.aggregates import SketchCode, percentile_cont
from monitoring.models import Metric
from tests.monitoring.factories import MetricFactory


def _sketch_of(values) -> bytes:
    counts: dict[int, int] = {}
    for value in values:
        code = sketch.value_code(value)
        counts[code] = counts.get(code, 0) + 1
    return sketch.encode_counts(counts)


def _exact(values) -> list[float]:
    return [percentile_cont(values, fraction) for fraction in sketch.QUANTILES.values()]


@pytest.mark.parametrize("size", [1, 2, 7, 100, 5000])
@pytest.mark.parametrize("spread", [0.1, 0.6, 2.0])
def test_it_estimates_every_percentile_within_half_a_percent(size, spread):
    rng = random.Random(size)
    values = [rng.lognormvariate(4, spread) for _ in range(size)]
    estimates = sketch.quantiles(_sketch_of(values), low=min(values), high=max(values))
    assert list(estimates.values()) == pytest.approx(_exact(values), rel=sketch.RELATIVE_ACCURACY)


def test_it_orders_negative_values_zero_and_positive_values():
    values = [-50.0, -1.0, 0.0, 0.0, 3.0, 400.0]
    estimates = sketch.quantiles(_sketch_of(values))
    assert list(estimates.values()) == pytest.approx(_exact(values), rel=sketch.RELATIVE_ACCURACY)
    assert (
        sketch.value_code(-2.0) < sketch.value_code(-1.0) < sketch.value_code(0.0) < sketch.value_code(1e-6)
    )


def test_it_merges_sketches_into_the_sketch_of_all_their_points():
    rng = random.Random(3)
    parts = [[rng.uniform(1, 10) * (k + 1) for _ in range(50)] for k in range(10)]
    merged = sketch.encode_counts(sketch.merge_counts(_sketch_of(part) for part in parts))
    assert merged == _sketch_of([value for part in parts for value in part])


def test_it_answers_nothing_for_an_empty_sketch():
    assert sketch.quantiles(sketch.encode_counts({})) == dict.fromkeys(sketch.QUANTILES)


@pytest.mark.django_db
def test_it_computes_the_same_codes_in_the_database_as_in_python():
    rng = random.Random(5)
    values = [
        0.0,
        1e-12,
        -1e-12,
        1.0,
        -1.0,
        *(rng.lognormvariate(0, 5) * rng.choice([1, -1]) for _ in range(300)),
    ]
    for value in values:
        MetricFactory(value=value)
    in_database = dict(Metric.objects.values_list("value", SketchCode("value")))
    assert in_database == {value: sketch.value_code(value) for value in values}
    assert Metric.objects.annotate(code=SketchCode(Value(2.5))).values_list("code", flat=True)[0] == (
        sketch.value_code(2.5)
    )
