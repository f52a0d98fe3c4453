"""bench/run, the benchmark report: its table from figures, and one real quick run, so the runner
and the benchmarks' BENCH-RESULT lines cannot drift apart unnoticed."""

import importlib.machinery
import importlib.util
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _load(name: str, path: str):
    loader = importlib.machinery.SourceFileLoader(name, str(ROOT / path))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


run = _load("bench_run", "bench/run")
report = _load("bench_report", "bench/_report.py")


def _outcome(name: str, status: str, *figures: dict):
    benchmark = next(b for b in run.BENCHMARKS if b.name == name)
    return run.Outcome(benchmark, status=status, figures=list(figures), output=["hello", *map(str, figures)])


def test_it_judges_a_figure_by_its_value_and_its_ratio():
    ingest = report.figure(
        "metrics_ingest", "ingest", 60_000, "points/s", target=(">=", 50_000),
        baseline=(300_000, "raw COPY"), ratio_target=(">=", 0.25),
    )  # fmt: skip
    chart = report.figure("metrics_chart", "chart", 20, "ms", target=("<", 50), baseline=(800, "raw"))
    assert ingest["ratio"] == 0.2 and ingest["met"] is False  # fast enough, but under a quarter of COPY
    assert chart["met"] is True
    assert report.figure("x", "shown", 1, "µs")["met"] is None


def test_it_reads_figures_back_from_a_benchmark_output(capsys):
    report.emit("probes_round", "round", 12.5, "s", target=("<", 10))
    print("human output")
    (figure,) = report.parse(capsys.readouterr().out)
    assert figure["figure"] == "round" and figure["measured"] == 12.5 and figure["met"] is False


def test_it_tables_figures_and_a_failed_benchmark():
    ingest = report.figure(
        "metrics_ingest", "ingest", 79_439, "points/s", target=(">=", 50_000),
        baseline=(227_983, "raw psycopg COPY"), ratio_target=(">=", 0.25),
    )  # fmt: skip
    timed_out = _outcome("probes_round", "timed out after 9 s")
    rows = run.table_rows([_outcome("metrics_ingest", "ok", ingest), timed_out])
    assert rows[0] == [
        "ingest",
        "≥ 50,000 points/s and ≥ 25.0% of baseline",
        "79,439 points/s",
        "227,983 (raw psycopg COPY)",
        "34.8%",
        "yes",
    ]
    assert rows[1][0] == "probes_round" and rows[1][-1] == "FAILED" and "timed out" in rows[1][2]


def test_it_writes_the_machine_the_table_and_the_runs_into_the_report():
    chart = report.figure("metrics_chart", "chart", 20, "ms", target=("<", 50))
    machine = {"date": "2026-11-24 06:00 UTC", "CPU": "Test CPU", "cores": "2"}
    text = run.report(machine, [_outcome("metrics_chart", "ok", chart)], quick=True, total_seconds=60)
    assert "- CPU: Test CPU" in text and "| chart | < 50.0 ms | 20.0 ms | — | — | yes |" in text
    assert "Quick run" in text and "| metrics_chart | 3 | ok |" in text


def test_it_refuses_an_unknown_benchmark(capsys):
    with pytest.raises(SystemExit):
        run.parse_args(["--only", "no_such_bench"])
    assert "metrics_chart" in capsys.readouterr().err


def test_it_runs_a_quick_benchmark_end_to_end(tmp_path):
    # Service mode only: the runner empties its two Redis databases, here the test run's own.
    if "REDIS_URL" not in os.environ or "CELERY_BROKER_URL" not in os.environ:
        pytest.skip("needs PostgreSQL and Redis (service mode)")
    server, cache_db = os.environ["REDIS_URL"].rsplit("/", 1)
    broker_db = os.environ["CELERY_BROKER_URL"].rsplit("/", 1)[1]
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [
            sys.executable, str(ROOT / "bench" / "run"), "--quick", "--only", "metrics_middleware",
            "--out", str(out), "--pg", os.environ["DATABASE_URL"].rsplit("/", 1)[0],
            "--redis", server, "--redis-dbs", f"{broker_db},{cache_db}",
        ],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    text = out.read_text()
    assert "trivial view with the request-timing middleware" in text and "requests/CPU-s" in text
    assert "- PostgreSQL: " in text and "| metrics_middleware | 3 | ok |" in text
