"""The serving benchmark's memory figures and server options (scripts/bench_serve.py): pure
helpers, on a made-up ``/proc/PID/smaps`` text. No server is started and nothing is timed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "bench_serve.py"
if "bench_serve" in sys.modules:
    bench_serve = sys.modules["bench_serve"]
else:
    spec = importlib.util.spec_from_file_location("bench_serve", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench_serve = importlib.util.module_from_spec(spec)
    sys.modules["bench_serve"] = bench_serve  # dataclasses look their module up there
    spec.loader.exec_module(bench_serve)

MB = 1024  # smaps counts kB

SMAPS = f"""\
55d0c0000000-55d0c8000000 rw-p 00000000 00:00 0                          [heap]
Size:             131072 kB
Rss:               {100 * MB} kB
Pss:               {100 * MB} kB
7f0000000000-7f0002000000 rw-p 00000000 00:00 0
Size:              32768 kB
Rss:               {30 * MB} kB
7f0002000000-7f0004000000 ---p 00000000 00:00 0
Size:              32768 kB
Rss:                   0 kB
7f1000000000-7f1000001000 ---p 00000000 00:00 0
Size:                  4 kB
Rss:                   0 kB
7f1000001000-7f1000801000 rw-p 00000000 00:00 0
Size:               8192 kB
Rss:                  {2 * MB} kB
7f2000000000-7f2000100000 r-xp 00000000 08:01 123456                     /usr/lib/libc.so.6
Size:               1024 kB
Rss:                 {1 * MB} kB
VmFlags: rd ex mr mw me
"""


def test_smaps_figures_split_heap_anonymous_and_arena_tails():
    heap, anonymous, arenas = bench_serve.smaps_figures(SMAPS)

    assert heap == 100  # [heap] only
    assert anonymous == 32  # the arena's used part and a thread stack; not libc's file
    assert arenas == 1  # the 32 MB reservation; not the 4 kB guard page


def test_smaps_figures_of_nothing():
    assert bench_serve.smaps_figures("") == (0, 0, 0)


def test_memory_row_is_a_table_row():
    memory = bench_serve.Memory(pid=42, rss=421.4, threads=7, heap=300.2, anonymous=110.6, arenas=3)

    assert memory.row("uvicorn: after 8 client(s)") == (
        "| uvicorn: after 8 client(s) | 42 | 421 | 300 | 111 | 7 | 3 |"
    )
    assert memory.row("x").count("|") == bench_serve.MEMORY_HEADER.split("\n")[0].count("|")


def test_server_options_parsed():
    args = bench_serve.parse_arguments(
        ["c.csv", "l", "--workers", "2", "--malloc-arena-max", "0", "--first-after", "3"]
    )

    assert (args.workers, args.malloc_arena_max, args.first_after) == (2, "0", 3.0)


def test_server_options_default_to_what_make_run_does():
    args = bench_serve.parse_arguments(["c.csv", "l"])

    assert args.workers is None  # musicrec.stack.web_concurrency() when the run starts
    assert args.malloc_arena_max is None


@pytest.mark.parametrize(
    "argv",
    [
        ["--workers", "0"],
        ["--malloc-arena-max", "two"],
        ["--malloc-arena-max", "-1"],
        ["--first-after", "-1"],
    ],
)
def test_bad_server_options_are_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        bench_serve.parse_arguments(["c.csv", "l", *argv])

    assert exit_.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_the_servers_environment_is_make_runs_unless_told(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)

    assert bench_serve._server_environment(None)["MALLOC_ARENA_MAX"] == "2"
    assert bench_serve._server_environment("8")["MALLOC_ARENA_MAX"] == "8"
    assert "MALLOC_ARENA_MAX" not in bench_serve._server_environment("0")  # glibc's own


def test_uvicorn_is_started_as_make_run_starts_it():
    command = bench_serve._server_command("uvicorn", 8123, workers=2)

    assert command[command.index("--lifespan") + 1] == "on"
    assert command[command.index("--workers") + 1] == "2"
    assert "--no-access-log" in command
