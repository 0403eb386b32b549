"""Serving recommendations over HTTP: ``GET /api/v1/recommendations/`` warm and cold against a
trivial endpoint of the same stack, under uvicorn and daphne, with 1, 8 and 32 clients.

    make bench-serve   # CATALOG=… LISTENS=…, which runs:
    .venv/bin/python -m musicrec.stack bench -- .venv/bin/python scripts/bench_serve.py \\
        CATALOG_CSV LISTENS_FOLDER
    # a second run on the kept database skips the loading (catalog, listeners, training):
    MUSICREC_BENCH_INSTANCE=serve .venv/bin/python -m musicrec.stack bench --keep -- \\
        .venv/bin/python scripts/bench_serve.py --reuse CATALOG_CSV LISTENS_FOLDER

The data is ``bench_recommend.py``'s (its loading phases, imported): the full catalog, the
listens folder's playlists as site listeners, a trained model. Then, for each server (uvicorn
as ``make run`` starts it, one process, then daphne), this process starts the server in
production mode (``DEBUG=0``, the same ASGI app, no access log, the per-user throttle raised out
of the way; no Celery worker or beat: nothing served here waits on them, and beat's popularity
refresh would make every list cold mid-run) and drives it over loopback from here, one
keep-alive connection per client, each request authenticated by a JWT of its own listener
(minted directly). For each level of concurrent clients, a fixed number of requests (and a time
cap):

* ``floor``: ``GET /api/v1/bench-serve-floor/``, an API path nobody serves: Django's
  middleware, routing and a small JSON 404, no authentication, no database; the stack's floor;
* ``trivial``: ``GET /api/v1/me/blocks/``, the caller's blocked artists (none): the same JWT
  authentication, throttle, DRF view and JSON rendering as the list, with two small reads (the
  user, the count); the ceiling the list is compared with;
* ``warm``: ``GET /api/v1/recommendations/`` of listeners whose list is cached (each asked once
  before, not timed): a hit, plus the impression every serve records;
* ``cold``: the same for listeners whose list version was replaced just before the phase
  (``services.cache.listener_lists_invalidate``, as any change of their taste does): each
  request is the first of its listener's new version, a miss computed by the engine.

With ``--experiment`` (issue #14), after those levels a split experiment enrolling everyone
(two variants: the site's parameters and another content weight) is defined through the
services, every warm listener's list computed again under it (untimed: the cache key names the
enrolment), and each level's warm and cold phases run again (``warm+exp``, ``cold+exp``, other
cold listeners); the experiment is stopped at the end. The probe then times the experiments'
lookup itself (one cache read) and a listener's assignment, with none running and with one.

Latency is measured by the client, request written to body read. The hit rate of each phase is
the server's own counters (``selectors.cache.cache_figures``, Redis) before and after it. The
end probes, in this process against the same Redis, what a per-process cache in front of Redis
would save on a warm request (Redis GET + unpickle of a cached payload against a dict lookup)
and times the other pieces of a hit.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import pickle
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
SEED = 20261130
SERVERS = ("uvicorn", "daphne")
PATHS = {
    "floor": "/api/v1/bench-serve-floor/",  # no such API: the JSON 404 (middleware, routing)
    "trivial": "/api/v1/me/blocks/",
    "warm": "/api/v1/recommendations/",
}
PATHS["cold"] = PATHS["warm-up"] = PATHS["rebuild"] = PATHS["warm"]
PATHS["warm+exp"] = PATHS["cold+exp"] = PATHS["warm-up+exp"] = PATHS["warm"]
#: seconds a server may take to answer /health/ (its imports, on a loaded machine)
START_TIMEOUT = 240.0
STATUS = {"floor": 404}  # the status each kind answers with (200 unless named here)

SERVER_ENV = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "THROTTLE_USER": "10000000/minute",
    "LOG_LEVEL": "ERROR",
    "PYTHONWARNINGS": "ignore::UserWarning",
}


# ---- pure helpers (tests/test_bench_serve.py) ----------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (``pct`` in 0-100) of a non-empty sequence."""
    if not values:
        raise ValueError("no values")
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile {pct} is not between 0 and 100")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil without floats' rounding surprises
    return ordered[min(int(rank), len(ordered)) - 1]


def levels_argument(text: str) -> list[int]:
    """``"1,8,32"`` → ``[1, 8, 32]`` (positive, at most 100, no duplicates)."""
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of numbers: {text!r}"
        ) from None
    if not levels or any(not 1 <= level <= 100 for level in levels):
        raise argparse.ArgumentTypeError("each level must be between 1 and 100 clients")
    if len(set(levels)) != len(levels):
        raise argparse.ArgumentTypeError(f"a level is repeated: {text!r}")
    return levels


def servers_argument(text: str) -> list[str]:
    """``"uvicorn,daphne"`` → ``["uvicorn", "daphne"]`` (known servers only)."""
    servers = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(servers) - set(SERVERS))
    if not servers or unknown:
        raise argparse.ArgumentTypeError(f"servers are among {', '.join(SERVERS)}: {text!r}")
    return servers


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("catalog", help="the catalog CSV (spotify_tracks.csv)")
    parser.add_argument("listens", help="a listens folder (mpd_subset format)")
    parser.add_argument("--levels", type=levels_argument, default=[1, 8, 32])
    parser.add_argument("--servers", type=servers_argument, default=list(SERVERS))
    parser.add_argument(
        "--requests",
        type=positive,
        default=400,
        help="timed floor, trivial and warm requests per level",
    )
    parser.add_argument(
        "--cold-requests", type=positive, default=160, help="timed cold requests per level"
    )
    parser.add_argument(
        "--warm-listeners", type=positive, default=200, help="listeners the warm requests cycle"
    )
    parser.add_argument(
        "--time-cap", type=float, default=60.0, help="seconds at most per phase (then it stops)"
    )
    parser.add_argument(
        "--workers",
        type=positive,
        default=None,
        help="uvicorn worker processes (default: as `make run` starts it, WEB_CONCURRENCY)",
    )
    parser.add_argument(
        "--malloc-arena-max",
        default=None,
        help="the servers' MALLOC_ARENA_MAX (default: as `make run` sets it; 0 = glibc's own)",
    )
    parser.add_argument(
        "--first-after",
        type=float,
        default=15.0,
        help="seconds after the server's start at which one listener's first list is timed",
    )
    parser.add_argument(
        "--experiment",
        action="store_true",
        help="run each level's warm and cold phases again with a split experiment enrolling "
        "everyone (issue #14: the experiments' overhead), and probe the lookup's cost",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="skip the loading when the database holds the listeners and an active model "
        "(run under `musicrec.stack bench --keep`)",
    )
    args = parser.parse_args(argv)
    if args.time_cap <= 0:
        parser.error("--time-cap must be positive")
    if args.first_after < 0:
        parser.error("--first-after must not be negative")
    if args.malloc_arena_max is not None and not args.malloc_arena_max.isdigit():
        parser.error("--malloc-arena-max must be a whole number (0 = glibc's default)")
    return args


@dataclass
class Phase:
    """One timed phase: latencies (seconds) of the answered requests, their statuses."""

    server: str
    kind: str
    clients: int
    seconds: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0
    capped: bool = False
    hits: int | None = None
    misses: int | None = None

    @property
    def rate(self) -> float:
        return len(self.seconds) / self.wall if self.wall else 0.0

    def ms(self, pct: float) -> float:
        return percentile(self.seconds, pct) * 1000

    @property
    def hit_rate(self) -> float | None:
        if self.hits is None or self.misses is None or not self.hits + self.misses:
            return None
        return self.hits / (self.hits + self.misses)


def phase_row(phase: Phase) -> str:
    """A markdown table row: server, clients, endpoint, n, p50/p95/p99, req/s, hit rate."""
    hit = "—"
    if phase.hit_rate is not None:
        hit = f"{phase.hit_rate:.0%} ({phase.hits}/{(phase.hits or 0) + (phase.misses or 0)})"
    flags = (" (capped)" if phase.capped else "") + (
        f" {phase.errors} errors" if phase.errors else ""
    )
    if not phase.seconds:
        head = f"| {phase.server} | {phase.clients} | {phase.kind} | 0{flags} |"
        return f"{head} — | — | — | — | {hit} |"
    return (
        f"| {phase.server} | {phase.clients} | {phase.kind} | {len(phase.seconds)}{flags} | "
        f"{phase.ms(50):.1f} | {phase.ms(95):.1f} | {phase.ms(99):.1f} | {phase.rate:.0f} | {hit} |"
    )


# ---- the client -----------------------------------------------------------------------------


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, token: str
) -> tuple[int, bool]:
    """One HTTP/1.1 GET on a keep-alive connection: (status, whether the server closes it)."""
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        "Accept: application/json\r\n\r\n".encode()
    )
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length, chunked, close = None, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            close = True
    if chunked:
        while size := int((await reader.readline()).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        close = True
    return status, close


async def _drive(  # type: ignore[no-untyped-def]
    port: int, path: str, tokens: list[str], clients: int, cap: float, phase: Phase
):
    """``clients`` connections take the tokens in turn until none is left or the cap passes."""
    jobs = deque(tokens)
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(clients)]

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while jobs and time.perf_counter() < deadline:
            token = jobs.popleft()
            started = time.perf_counter()
            try:
                status, close = await _request(reader, writer, path, token)
            except (ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
                phase.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            if status == STATUS.get(phase.kind, 200):
                phase.seconds.append(time.perf_counter() - started)
            else:
                phase.errors += 1
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()

    started = time.perf_counter()
    deadline = started + cap
    await asyncio.gather(*(client(r, w) for r, w in connections))
    phase.wall = time.perf_counter() - started
    phase.capped = bool(jobs)


# ---- the server -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_command(server: str, port: int, workers: int = 1) -> list[str]:
    if server == "uvicorn":  # as musicrec.stack run starts it, without the access log
        from musicrec import stack

        return stack.web_command(host="127.0.0.1", port=port, workers=workers, access_log=False)
    return [
        sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0",
        "musicrec.asgi:application",
    ]  # fmt: skip


def _server_environment(arena_max: str | None) -> dict[str, str]:
    """The web process's environment as ``make run`` sets it (``musicrec.stack``), with
    ``MALLOC_ARENA_MAX`` replaced when asked (``"0"``: left to glibc)."""
    from musicrec import stack

    base = dict(os.environ)
    base.pop("MALLOC_ARENA_MAX", None)
    if arena_max is not None:
        base["MALLOC_ARENA_MAX"] = arena_max
    env = stack.web_environment(base)
    if env.get("MALLOC_ARENA_MAX") == "0":
        del env["MALLOC_ARENA_MAX"]
    return env


def _start(server: str, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen:
    proc = subprocess.Popen(
        _server_command(server, port, workers), cwd=ROOT, env=env, start_new_session=True
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{server} exited with status {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health/")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.25)
    _stop(proc)
    raise SystemExit(f"{server} did not answer /health/ within {START_TIMEOUT:.0f} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@dataclass(frozen=True)
class Memory:
    """One process's memory (MB) from ``/proc/PID/status`` and ``/proc/PID/smaps``."""

    pid: int
    rss: float
    threads: int
    heap: float  # [heap]: glibc's main arena (brk)
    anonymous: float  # anonymous mappings: other arenas, numpy's large arrays, stacks
    arenas: int  # anonymous PROT_NONE reservations ≥ 1 MB: the unused tails of glibc's arenas

    def row(self, label: str) -> str:
        return (
            f"| {label} | {self.pid} | {self.rss:.0f} | {self.heap:.0f} | {self.anonymous:.0f} | "
            f"{self.threads} | {self.arenas} |"
        )


MEMORY_HEADER = (
    "| when | pid | RSS MB | [heap] MB | anonymous MB | threads | arena tails |\n"
    "|---|---|---|---|---|---|---|"
)


def smaps_figures(text: str) -> tuple[float, float, int]:
    """``(heap MB, anonymous MB, arena tails)`` of a ``/proc/PID/smaps`` text: the resident
    size of ``[heap]``, that of anonymous mappings, and how many anonymous mappings of at least
    1 MB are reserved without access (``---p``: what glibc keeps of a thread arena's 64 MB heap
    beyond what it uses; thread stacks' guard pages are 4 KB)."""
    heap = anonymous = 0
    arenas = 0
    kind = None
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if "-" in fields[0] and len(fields) >= 5 and not fields[0].endswith(":"):
            name = fields[5] if len(fields) > 5 else ""
            start, end = (int(part, 16) for part in fields[0].split("-"))
            kind = "heap" if name == "[heap]" else ("anonymous" if not name else None)
            if not name and fields[1] == "---p" and end - start >= 1 << 20:
                arenas += 1
        elif fields[0] == "Rss:" and kind is not None:
            if kind == "heap":
                heap += int(fields[1])
            else:
                anonymous += int(fields[1])
    return heap / 1024, anonymous / 1024, arenas


def _memory(pid: int) -> Memory | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        smaps = Path(f"/proc/{pid}/smaps").read_text()
    except OSError:
        return None
    values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    heap, anonymous, arenas = smaps_figures(smaps)
    return Memory(
        pid=pid,
        rss=int(values["VmRSS"].split()[0]) / 1024,
        threads=int(values["Threads"]),
        heap=heap,
        anonymous=anonymous,
        arenas=arenas,
    )


def _serving_pids(proc: subprocess.Popen) -> list[int]:
    """The processes that serve requests: the server itself, or (uvicorn ``--workers``) its
    worker children, not the supervisor nor multiprocessing's resource tracker."""
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    pids = [int(pid) for pid in children.read_text().split()] if children.exists() else []
    workers = []
    for pid in pids:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:  # gone since
            continue
        if "resource_tracker" not in command:
            workers.append(pid)
    return workers or [proc.pid]


def _memory_line(proc: subprocess.Popen, label: str, rows: list[str]) -> None:
    figures = [m for m in map(_memory, _serving_pids(proc)) if m is not None]
    for memory in figures:
        rows.append(memory.row(label))
    print(
        f"memory {label}: "
        + ", ".join(
            f"pid {m.pid} RSS {m.rss:.0f} MB ([heap] {m.heap:.0f}, anonymous {m.anonymous:.0f}, "
            f"{m.threads} threads, {m.arenas} arena tails)"
            for m in figures
        ),
        flush=True,
    )


# ---- the run --------------------------------------------------------------------------------


def _listeners(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The listeners (loaded now, or the kept database's with ``--reuse``)."""
    import bench_recommend
    import numpy as np

    from accounts.models import User
    from recommendations.models import ModelVersion

    reusable = (
        args.reuse
        and ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exists()
        and User.objects.filter(username__startswith="listens-").exists()
    )
    if reusable:
        users = list(User.objects.filter(username__startswith="listens-").order_by("pk"))
        print(f"reusing the kept database: {len(users)} listeners and an active model")
        return users
    return bench_recommend._load(args, np.random.default_rng(bench_recommend.SEED))


def _figures() -> tuple[int, int]:
    from recommendations.selectors.cache import cache_figures

    figures = cache_figures()
    return figures.hits, figures.misses


def _phase(server: str, kind: str, clients: int, port: int, tokens: list[str], cap: float) -> Phase:
    phase = Phase(server=server, kind=kind, clients=clients)
    hits, misses = _figures()
    asyncio.run(_drive(port, PATHS[kind], tokens, clients, cap, phase))
    after_hits, after_misses = _figures()
    if kind not in ("floor", "trivial") and not kind.startswith("probe"):
        phase.hits, phase.misses = after_hits - hits, after_misses - misses
    print(phase_row(phase), flush=True)
    return phase


def _first_list(port: int, token: str) -> float:
    """Seconds of one list request (a listener's first: nothing cached for them)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", PATHS["warm"], headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise SystemExit(f"the first list answered {response.status}")
    return time.perf_counter() - started


def _serve(
    args: argparse.Namespace,
    server: str,
    warm: list,  # type: ignore[type-arg]
    cold: deque,  # type: ignore[type-arg]
    memory: list[str],
) -> list[Phase]:
    from recommendations.services.cache import listener_lists_invalidate
    from recommendations.services.serving import catalog_generation_bump

    port = _free_port()
    workers = args.workers if server == "uvicorn" else 1
    env = _server_environment(args.malloc_arena_max)
    label = f"{server} ×{workers}" if workers > 1 else server
    started = time.perf_counter()
    proc = _start(server, port, workers, env)
    answered = time.perf_counter() - started
    phases: list[Phase] = []
    try:
        # one listener's first list at --first-after seconds after the start: what the first
        # listener of a fresh process waits (the serving state built at start, or not)
        first_user, first_token = cold.popleft()
        listener_lists_invalidate(user_id=first_user)
        time.sleep(max(0.0, args.first_after - (time.perf_counter() - started)))
        at = time.perf_counter() - started
        first = _first_list(port, first_token)
        print(
            f"{label}: /health/ answered {answered:.1f} s after the start; the first list, "
            f"asked at {at:.1f} s, took {first * 1000:.0f} ms "
            f"(MALLOC_ARENA_MAX={env.get('MALLOC_ARENA_MAX', 'unset')}, "
            f"RECOMMENDER_WARM_UP={env.get('RECOMMENDER_WARM_UP', 'unset (on)')})",
            flush=True,
        )
        _memory_line(proc, f"{label}: after the first list", memory)
        # untimed: every warm listener's list is computed (versions replaced first: this
        # process computes them, whatever the last server cached) and cached
        for user_id, _ in warm:
            listener_lists_invalidate(user_id=user_id)
        phase = _phase(label, "warm-up", 4, port, [t for _, t in warm], 600.0)
        print(
            f"{label}: started and warmed up in {time.perf_counter() - started:.1f} s "
            f"({len(phase.seconds)} lists, {phase.errors} errors)",
            flush=True,
        )
        _memory_line(proc, f"{label}: after the warm-up ({len(warm)} lists)", memory)
        warm_tokens = [t for _, t in warm]
        for clients in args.levels:
            cycle = [warm_tokens[i % len(warm_tokens)] for i in range(args.requests)]
            phases.append(_phase(label, "floor", clients, port, cycle, args.time_cap))
            phases.append(_phase(label, "trivial", clients, port, cycle, args.time_cap))
            phases.append(_phase(label, "warm", clients, port, cycle, args.time_cap))
            batch = [cold.popleft() for _ in range(min(args.cold_requests, len(cold)))]
            for user_id, _ in batch:
                listener_lists_invalidate(user_id=user_id)
            phases.append(
                _phase(label, "cold", clients, port, [t for _, t in batch], args.time_cap)
            )
            _memory_line(proc, f"{label}: after {clients} client(s)", memory)
        if args.experiment:
            phases += _with_experiment(args, label, port, warm_tokens, cold)
        # a rebuild of the serving state, as a catalog edit causes (a popularity refresh or a
        # training likewise): every process rebuilds on its next request while the others are
        # answered from the old state; the phase ends when every request, the rebuilding ones
        # included, has been answered. Then the memory of a process that held two states
        catalog_generation_bump()
        rebuild = [warm_tokens[i % len(warm_tokens)] for i in range(min(args.requests, 200))]
        _phase(label, "rebuild", 4, port, rebuild, args.time_cap)
        _memory_line(proc, f"{label}: after a rebuild of the state", memory)
    finally:
        _stop(proc)
    return phases


def _with_experiment(
    args: argparse.Namespace,
    label: str,
    port: int,
    warm_tokens: list[str],
    cold: deque,  # type: ignore[type-arg]
) -> list[Phase]:
    """Each level's warm and cold phases again while a split experiment enrolling everyone runs
    (defined and stopped through the services, which replace the cached lookup at once: the
    driver's writes are autocommitted). The warm listeners' lists are computed again first
    (untimed): their cache key now names the experiment and variant."""
    from django.utils import timezone

    from recommendations.services.cache import listener_lists_invalidate
    from recommendations.services.experiments import (
        VariantSpec,
        experiment_create,
        experiment_stop,
    )

    experiment = experiment_create(
        name=f"bench-serve {timezone.now():%Y-%m-%d %H:%M:%S.%f}",
        variants=[
            VariantSpec(key="site"),
            VariantSpec(key="content", parameters={"weights": {"content": 0.15}}),
        ],
        by=None,
        share=1.0,
        description="scripts/bench_serve.py --experiment: the experiments' overhead",
    )
    phases: list[Phase] = []
    try:
        warm_up = _phase(label, "warm-up+exp", 4, port, warm_tokens, 600.0)
        print(
            f"{label}: experiment {experiment.pk} running, {len(warm_up.seconds)} warm lists "
            "computed under it",
            flush=True,
        )
        for clients in args.levels:
            cycle = [warm_tokens[i % len(warm_tokens)] for i in range(args.requests)]
            phases.append(_phase(label, "warm+exp", clients, port, cycle, args.time_cap))
            batch = [cold.popleft() for _ in range(min(args.cold_requests, len(cold)))]
            for user_id, _ in batch:
                listener_lists_invalidate(user_id=user_id)
            phases.append(
                _phase(label, "cold+exp", clients, port, [t for _, t in batch], args.time_cap)
            )
        _probe_experiments(running=True)
    finally:
        experiment_stop(experiment=experiment, by=None)
    _probe_experiments(running=False)
    return phases


def _probe_experiments(*, running: bool) -> None:
    """The experiments' cost on every served list, in this process against the same Redis:
    the lookup (one cache GET + unpickle of the running experiments) and the assignment."""
    from recommendations.selectors.experiments import experiment_assignment, running_experiments

    running_experiments()  # cached by the first read
    found = len(running_experiments())
    lookup = _timed_us(running_experiments, 2000)
    assignment = _timed_us(lambda: experiment_assignment(user_id=12345), 2000)
    state = f"{found} running" if running else "none running"
    print(
        f"probe: experiments ({state}): lookup {lookup:.1f} µs, lookup + assignment "
        f"{assignment:.1f} µs (median of 2,000 calls)",
        flush=True,
    )


def _timed_us(call: Callable[[], object], repeat: int) -> float:
    """The median of ``repeat`` calls, in microseconds."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds) * 1e6


def _probe(user) -> None:  # type: ignore[no-untyped-def]
    """What a hit is made of, in this process against the same Redis and database: the pieces
    ``recommendation_list_serve`` runs on a hit, and the payload's Redis GET + unpickle against
    an in-process dict lookup."""
    import json

    from django.core.cache import cache
    from django_redis import get_redis_connection
    from rest_framework.renderers import JSONRenderer

    from recommendations.models import ImpressionSurface
    from recommendations.selectors import serving
    from recommendations.services import cache as list_cache
    from recommendations.services.lists import impression_record

    key = list_cache.LIST_KEY.format(
        user_id=user.pk,
        listener=list_cache.listener_version(user_id=user.pk),
        generation=list_cache._generation_part(serving.generation_key()),
        request=list_cache._request_part(n=5, mood=None, activity=None, discovery=None),
        experiment="",  # run after any experiment stopped: the site's own list
    )
    payload = cache.get(key)
    if payload is None:
        print("probe: the listener's list is not cached (skipped)")
        return
    redis = get_redis_connection("default")
    raw_key = cache.make_key(key)
    raw = redis.get(raw_key)
    local = {key: payload}
    repeat = 500
    figures = {
        "listener version (Redis GET)": _timed_us(
            lambda: list_cache.listener_version(user_id=user.pk), repeat
        ),
        "generation_key() (cache read + 2 pk lookups)": _timed_us(serving.generation_key, repeat),
        "payload: cache.get (Redis GET + unpickle)": _timed_us(lambda: cache.get(key), repeat),
        "payload: Redis GET alone": _timed_us(lambda: redis.get(raw_key), repeat),
        "payload: unpickle alone": _timed_us(lambda: pickle.loads(raw), repeat),  # noqa: S301
        "payload: in-process dict lookup": _timed_us(lambda: local.get(key), repeat),
        "hit counter (Redis INCR)": _timed_us(
            lambda: cache.incr("bench:serve:probe", 1, ignore_key_check=True), repeat
        ),
        "impression INSERT": _timed_us(
            lambda: impression_record(user=user, payload=payload, surface=ImpressionSurface.API),
            200,
        ),
        "JSON rendering (DRF JSONRenderer)": _timed_us(
            lambda: JSONRenderer().render(payload), repeat
        ),
    }
    cache.delete("bench:serve:probe")
    print(
        f"probe: a cached payload of n=5 is {len(raw):,} bytes pickled, "
        f"{len(json.dumps(payload)):,} bytes of JSON"
    )
    for label, us in figures.items():
        print(f"probe: {label:<48} {us:8.1f} µs (median of calls)")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "scripts"))
    os.environ.update(SERVER_ENV)
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
    import django

    django.setup()
    import random

    from django.db import connections
    from rest_framework_simplejwt.tokens import RefreshToken

    users = _listeners(args)
    rng = random.Random(SEED)
    chosen = rng.sample(users, len(users))
    if args.workers is None:
        from musicrec import stack

        args.workers = stack.web_concurrency()
    rounds = 2 if args.experiment else 1  # other cold listeners for the experiment's phases
    needed_cold = (args.cold_requests * len(args.levels) * rounds + 1) * len(args.servers)
    if len(chosen) < args.warm_listeners + args.cold_requests:
        raise SystemExit(f"{len(chosen)} listeners: fewer than --warm-listeners + --cold-requests")
    warm_users = chosen[: args.warm_listeners]
    cold_users = chosen[args.warm_listeners : args.warm_listeners + needed_cold]

    def token(user) -> str:  # type: ignore[no-untyped-def]
        return str(RefreshToken.for_user(user).access_token)

    warm = [(user.pk, token(user)) for user in warm_users]
    cold = deque((user.pk, token(user)) for user in cold_users)
    connections.close_all()
    print(
        f"{len(users)} listeners: {len(warm)} warm, {len(cold)} cold (each listener's version "
        f"replaced before its cold request); levels {args.levels}; {args.requests} floor, "
        f"trivial and warm, {args.cold_requests} cold requests per level; "
        f"cap {args.time_cap:.0f} s a phase"
    )
    print(f"uptime before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}", flush=True)
    header = "| server | clients | endpoint | n | p50 ms | p95 ms | p99 ms | req/s | hit rate |"
    print(header + "\n|---|---|---|---|---|---|---|---|---|", flush=True)
    phases: list[Phase] = []
    memory: list[str] = []
    for server in args.servers:
        phases += _serve(args, server, warm, cold, memory)
    print(f"uptime after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")

    print("\n" + header + "\n|---|---|---|---|---|---|---|---|---|")
    for phase in phases:
        print(phase_row(phase))
    print("\n" + MEMORY_HEADER)
    for row in memory:
        print(row)
    by_key = {(p.server, p.kind, p.clients): p for p in phases}
    for server in dict.fromkeys(p.server for p in phases):
        for clients in args.levels:
            warm_phase = by_key.get((server, "warm", clients))
            trivial = by_key.get((server, "trivial", clients))
            if warm_phase and trivial and trivial.rate:
                print(
                    f"{server}, {clients} clients: warm throughput = "
                    f"{warm_phase.rate / trivial.rate:.0%} of the trivial endpoint's"
                )
    for server in dict.fromkeys(p.server for p in phases):
        for clients in args.levels:
            for kind in ("warm", "cold"):
                plain, under = (
                    by_key.get((server, kind, clients)),
                    by_key.get((server, f"{kind}+exp", clients)),
                )
                if plain and under and plain.seconds and under.seconds:
                    print(
                        f"{server}, {clients} clients, {kind}: p95 {plain.ms(95):.1f} ms with no "
                        f"experiment, {under.ms(95):.1f} ms with one enrolling everyone"
                    )
    _probe(warm_users[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
