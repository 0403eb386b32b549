"""The serving benchmark's pure helpers (scripts/bench_serve.py): percentiles and arguments.
No server is started and nothing is timed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "bench_serve.py"
spec = importlib.util.spec_from_file_location("bench_serve", SCRIPT)
assert spec is not None and spec.loader is not None
bench_serve = importlib.util.module_from_spec(spec)
sys.modules.setdefault("bench_serve", bench_serve)  # dataclasses look their module up there
spec.loader.exec_module(bench_serve)


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]  # 1 … 100, shuffled order must not matter
    shuffled = values[50:] + values[:50]

    assert bench_serve.percentile(shuffled, 50) == 50.0
    assert bench_serve.percentile(shuffled, 95) == 95.0
    assert bench_serve.percentile(shuffled, 99) == 99.0
    assert bench_serve.percentile(shuffled, 100) == 100.0
    assert bench_serve.percentile(shuffled, 0) == 1.0


def test_percentile_of_few_values_is_one_of_them():
    assert bench_serve.percentile([3.0], 95) == 3.0
    assert bench_serve.percentile([1.0, 2.0, 3.0], 50) == 2.0
    assert bench_serve.percentile([1.0, 2.0, 3.0], 99) == 3.0


@pytest.mark.parametrize("pct", [-1, 101])
def test_percentile_refuses_out_of_range(pct):
    with pytest.raises(ValueError):
        bench_serve.percentile([1.0], pct)


def test_percentile_refuses_no_values():
    with pytest.raises(ValueError):
        bench_serve.percentile([], 50)


def test_arguments_defaults():
    args = bench_serve.parse_arguments(["tracks.csv", "listens"])

    assert args.levels == [1, 8, 32]
    assert args.servers == ["uvicorn", "daphne"]
    assert (args.catalog, args.listens, args.reuse) == ("tracks.csv", "listens", False)


def test_arguments_parsed():
    args = bench_serve.parse_arguments(
        ["c.csv", "l", "--levels", "2,4", "--servers", "daphne", "--reuse", "--requests", "10"]
    )

    assert args.levels == [2, 4]
    assert args.servers == ["daphne"]
    assert args.reuse is True
    assert args.requests == 10


@pytest.mark.parametrize(
    "argv",
    [
        ["c.csv"],  # the listens folder is missing
        ["c.csv", "l", "--levels", "0,8"],
        ["c.csv", "l", "--levels", "8,8"],
        ["c.csv", "l", "--levels", "eight"],
        ["c.csv", "l", "--servers", "gunicorn"],
        ["c.csv", "l", "--requests", "0"],
        ["c.csv", "l", "--time-cap", "0"],
    ],
)
def test_bad_arguments_are_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        bench_serve.parse_arguments(argv)

    assert exit_.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_phase_figures_and_row():
    phase = bench_serve.Phase(server="uvicorn", kind="warm", clients=8, wall=2.0, hits=3, misses=1)
    phase.seconds = [0.010, 0.020, 0.030, 0.040]

    assert phase.rate == 2.0
    assert phase.hit_rate == 0.75
    assert phase.ms(50) == pytest.approx(20.0)
    row = bench_serve.phase_row(phase)
    assert row.startswith("| uvicorn | 8 | warm | 4 |")
    assert "75% (3/4)" in row
