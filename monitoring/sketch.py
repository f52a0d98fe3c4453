"""A mergeable quantile sketch: how rollups answer p50/p90/p95/p99 over any merge of buckets.

Percentiles do not merge: the p95 of ten sources is not any mean of their ten p95s. Counts per
logarithmic bin do: each rollup row keeps, for its points, how many fell in each bin, and adding
the counts of several rows gives the bins of all their points together, exactly as if they had
been binned at once. Bin edges grow by a factor GAMMA, so every value of a bin is within
RELATIVE_ACCURACY of the bin's representative value (the mapping DDSketch uses). A quantile is
read from the cumulative counts: the value at the rank percentile_cont would use, interpolated
between the two nearest ranks as it does, so the estimate stays within RELATIVE_ACCURACY of the
exact percentile over the same points. Half a percent leaves room under the 1 % that charts
promise for the estimate of one rank and the interpolation together.

Values are coded as ordered integers so negatives, zero and positives share one sorted list:
a positive value's code is its bin index plus CODE_BASE, a negative value's the negation of its
magnitude's code, zero (and anything nearer to zero than MIN_MAGNITUDE) is 0. The database
computes the same codes (SketchCode), so a rollup bins its points in the GROUP BY and ships only
(code, count) pairs.

Stored form: a width byte, then the codes and the cumulative counts as two little-endian integer
arrays, both ascending, so one bisect finds a rank. Arrays load in C at memory speed: a 24 h chart
reads 1,440 sketches, and turning each into Python lists first cost more than the query.
"""

import math
import sys
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Mapping

RELATIVE_ACCURACY = 0.005
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
LOG_GAMMA = math.log(GAMMA)
# Below this magnitude a value counts as zero: no metric is that small, and it keeps bin indexes
# in a narrow range (|index| < 3,000 from here up to 1e300).
MIN_MAGNITUDE = 1e-9
CODE_BASE = 100_000
QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}

# Counts of up to 2**31 - 1 points take 4 bytes each; a busier row takes 8.
_NARROW, _WIDE = b"\x04", b"\x08"
_BIG_ENDIAN = sys.byteorder == "big"


def value_code(value: float) -> int:
    magnitude = abs(value)
    if magnitude < MIN_MAGNITUDE:
        return 0
    code = math.ceil(math.log(magnitude) / LOG_GAMMA) + CODE_BASE
    return code if value > 0 else -code


def code_value(code: int) -> float:
    """The bin's representative value: the point of least relative error to both edges."""
    if code == 0:
        return 0.0
    index = abs(code) - CODE_BASE
    value = 2 * GAMMA**index / (GAMMA + 1)
    return value if code > 0 else -value


def encode_counts(counts: Mapping[int, int]) -> bytes:
    codes = sorted(code for code, count in counts.items() if count)
    cumulative, running = [], 0
    for code in codes:
        running += counts[code]
        cumulative.append(running)
    width = _NARROW if running < 2**31 else _WIDE
    parts = [array("i", codes), array("i" if width == _NARROW else "q", cumulative)]
    if _BIG_ENDIAN:
        for part in parts:
            part.byteswap()
    return width + parts[0].tobytes() + parts[1].tobytes()


def decode(blob: bytes) -> tuple[array, array]:
    """(codes, cumulative counts) of a stored sketch."""
    blob = memoryview(blob)
    if not blob:
        return array("i"), array("i")
    wide = blob[0:1] == _WIDE
    length = (len(blob) - 1) // (12 if wide else 8)
    codes, cumulative = array("i"), array("q" if wide else "i")
    codes.frombytes(blob[1 : 1 + 4 * length])
    cumulative.frombytes(blob[1 + 4 * length :])
    if _BIG_ENDIAN:
        codes.byteswap()
        cumulative.byteswap()
    return codes, cumulative


def merge_counts(blobs: Iterable[bytes]) -> dict[int, int]:
    """The bin counts of several sketches' points together."""
    merged: dict[int, int] = {}
    get = merged.get
    for blob in blobs:
        codes, cumulative = decode(blob)
        previous = 0
        for code, running in zip(codes, cumulative, strict=True):
            merged[code] = get(code, 0) + running - previous
            previous = running
    return merged


def quantiles(blob: bytes, *, low: float | None = None, high: float | None = None) -> dict[str, float | None]:
    """p50/p90/p95/p99 of a sketch, clamped to the points' exact minimum and maximum when given
    (a bin's representative value may lie just outside them)."""
    codes, cumulative = decode(blob)
    return _quantiles(codes, cumulative, low, high)


def quantiles_of_counts(
    counts: Mapping[int, int], *, low: float | None = None, high: float | None = None
) -> dict[str, float | None]:
    """The same from bin counts (merge_counts' answer), without encoding them first."""
    codes = sorted(code for code, count in counts.items() if count)
    cumulative, running = [], 0
    for code in codes:
        running += counts[code]
        cumulative.append(running)
    return _quantiles(codes, cumulative, low, high)


def _quantiles(
    codes: list[int], cumulative: list[int], low: float | None, high: float | None
) -> dict[str, float | None]:
    if not codes:
        return dict.fromkeys(QUANTILES)
    total = cumulative[-1]

    def at_rank(rank: int) -> float:
        return code_value(codes[bisect_right(cumulative, rank)])

    answer = {}
    for label, fraction in QUANTILES.items():
        position = fraction * (total - 1)
        lower = math.floor(position)
        value = at_rank(lower)
        if position > lower:
            value += (position - lower) * (at_rank(lower + 1) - value)
        if low is not None:
            value = max(value, low)
        if high is not None:
            value = min(value, high)
        answer[label] = value
    return answer
