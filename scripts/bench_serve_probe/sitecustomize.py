"""Loaded by every Python process started with this folder on ``PYTHONPATH``
(``scripts/bench_serve.py --tracemalloc``): when ``BENCH_SERVE_TRACEMALLOC`` names a folder,
Python's allocations are traced from the start, and ``SIGUSR1`` writes what the process holds
(traced total and peak, the 25 largest allocation sites, RSS) to ``<folder>/<pid>.txt``.
A diagnostic of the benchmark only: tracing slows the server, its timings are not figures."""

from __future__ import annotations

import os

_FOLDER = os.environ.get("BENCH_SERVE_TRACEMALLOC")

if _FOLDER:
    import signal
    import tracemalloc
    from pathlib import Path

    tracemalloc.start(8)

    def _dump(signum: int, frame: object) -> None:
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        current, peak = tracemalloc.get_traced_memory()
        rss = next(
            line.split()[1]
            for line in Path("/proc/self/status").read_text().splitlines()
            if line.startswith("VmRSS:")
        )
        lines = [
            f"traced {current / 2**20:.1f} MB (peak {peak / 2**20:.1f} MB), "
            f"RSS {int(rss) / 1024:.0f} MB"
        ]
        for stat in snapshot.statistics("lineno")[:25]:
            lines.append(f"{stat.size / 2**20:8.2f} MB {stat.count:9d} blocks  {stat.traceback}")
        Path(_FOLDER, f"{os.getpid()}.txt").write_text("\n".join(lines) + "\n")

    signal.signal(signal.SIGUSR1, _dump)
