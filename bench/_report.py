"""Machine-readable figures: every benchmark prints one line per figure, `BENCH-RESULT {json}`,
after its own human-readable output; bench/run collects them into one table.

A figure has a measured value and a unit, and may have:
- a target on the value (`target=("<", 50)`: under 50 ms);
- a baseline measured in the same run (`baseline=(812.0, "raw aggregate")`), the figure that
  says what the measured value is worth on this machine at this moment; the ratio is
  measured / baseline;
- a target on that ratio (`ratio_target=(">=", 0.25)`: at least a quarter of raw COPY).
A figure meets its target when every target it has holds; one with no target is shown only.
"""

import json
import operator

PREFIX = "BENCH-RESULT "
OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
SIGNS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def _bound(pair: tuple[str, float] | None) -> dict | None:
    if pair is None:
        return None
    op, value = pair
    if op not in OPERATORS:
        raise ValueError(f"unknown operator {op!r}")
    return {"op": op, "value": float(value)}


def figure(
    benchmark: str,
    name: str,
    measured: float,
    unit: str,
    *,
    target: tuple[str, float] | None = None,
    baseline: tuple[float, str] | None = None,
    ratio_target: tuple[str, float] | None = None,
    note: str = "",
) -> dict:
    """One figure as a plain dict (what is printed and what bench/run reads)."""
    if ratio_target is not None and baseline is None:
        raise ValueError("a ratio target needs a baseline")
    result = {
        "benchmark": benchmark,
        "figure": name,
        "measured": float(measured),
        "unit": unit,
        "target": _bound(target),
        "baseline": {"value": float(baseline[0]), "label": baseline[1]} if baseline else None,
        "ratio_target": _bound(ratio_target),
        "note": note,
    }
    result["ratio"] = ratio(result)
    result["met"] = met(result)
    return result


def ratio(result: dict) -> float | None:
    baseline = result.get("baseline")
    if not baseline or not baseline["value"]:
        return None
    return result["measured"] / baseline["value"]


def met(result: dict) -> bool | None:
    """True / False when the figure has a target, None when it has none."""
    checks = []
    if result.get("target"):
        checks.append(OPERATORS[result["target"]["op"]](result["measured"], result["target"]["value"]))
    if result.get("ratio_target"):
        value = ratio(result)
        checks.append(
            value is not None
            and OPERATORS[result["ratio_target"]["op"]](value, result["ratio_target"]["value"])
        )
    return all(checks) if checks else None


def emit(benchmark: str, name: str, measured: float, unit: str, **kwargs) -> dict:
    result = figure(benchmark, name, measured, unit, **kwargs)
    print(PREFIX + json.dumps(result, ensure_ascii=False), flush=True)
    return result


def parse(output: str) -> list[dict]:
    """Every figure printed in a benchmark's output, with ratio and verdict recomputed here."""
    results = []
    for line in output.splitlines():
        if line.startswith(PREFIX):
            result = json.loads(line[len(PREFIX) :])
            result["ratio"] = ratio(result)
            result["met"] = met(result)
            results.append(result)
    return results
