"""Catalog import and search benchmark over the full catalog (``make bench-import``).

    make bench-import [CATALOG=path/to/spotify_tracks.csv]
    # which runs:
    .venv/bin/python -m musicrec.stack bench -- .venv/bin/python scripts/bench_import.py PATH

The launcher gives it a freshly created, migrated, empty database of its own (``var/bench/``).
Each phase runs in a child process (``--phase copy|import|search PATH --result FILE``) so that
its peak memory (RSS high-water mark, ``ru_maxrss``) is its own, not that of an earlier phase:

1. ``copy``: PostgreSQL's own ``COPY`` of the file into a bare 20-text-column table (the floor).
2. ``import``: ``catalog_import_file`` into the empty catalog; then again with the same file (the
   re-import must create and update nothing). SQL statements are timed with
   ``connection.execute_wrapper`` and row validation by wrapping ``parse_row`` (both cost well
   under 1 % of the run), which gives a breakdown of where the time goes.
3. ``search``: 200 queries built deterministically from the file (seeded sample; titles, artists,
   artist + title mixes with one typo in most, plain single words, non-Latin titles), 10 more as a
   warm-up; each ``track_search(query=q, limit=20)`` is timed, which includes loading the tracks.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import platform
import random
import re
import resource
import statistics
import string
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261123
SEARCH_QUERIES = 200
WARMUP_QUERIES = 10
COPY_CHUNK = 1 << 20

# Targets (see docs/benchmarks.md).
TARGET_IMPORT_SECONDS = 60.0
TARGET_PEAK_MB = 500.0
TARGET_REIMPORT_SHARE = 0.5  # of the fresh import's time
TARGET_SEARCH_P95_MS = 50.0

# How many queries of each kind (per 200), and whether most of them get a typo.
QUERY_MIX: tuple[tuple[str, int, bool], ...] = (
    ("title", 90, True),
    ("artist", 30, True),
    ("artist+title", 40, True),
    ("word", 30, False),
    ("non-latin", 10, False),
)
TYPO_SHARE = 0.8
TITLE_MAX_WORDS = 6


# --------------------------------------------------------------------------- helpers


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
    import django

    django.setup()


def _rss_mb() -> float:
    """Current resident set size in MB (Linux /proc)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000  # KiB on Linux


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _sql_label(sql: str) -> str:
    """A short, stable name for a statement (its first meaningful words)."""
    text = " ".join(sql.split())
    for pattern, label in (
        (r"set_config\(", "set_config"),
        (r"FROM catalog_search_term", "search: word corrections (catalog_search_term)"),
        (r"search_vector @@", "search: full-text candidates"),
        (r"<%%? public\.immutable_unaccent", "search: trigram candidates"),
        (r"AS score", "search: rank candidates"),
        (r"FROM \"catalog_track_artists\"|FROM \"catalog_trackartist\"", "load: credits"),
        (r"FROM \"catalog_genre\"", "load: genres"),
        (r"FROM \"catalog_track\"", "load: tracks"),
        (r"REFRESH MATERIALIZED VIEW", "REFRESH MATERIALIZED VIEW catalog_search_term"),
        (r"UPDATE catalog_track t SET search_document", "search documents UPDATE"),
    ):
        if re.search(pattern, text):
            return label
    return text[:90]


@contextmanager
def _timed_sql() -> Iterator[dict[str, list[float]]]:
    """Time every statement the default connection runs: {label: [seconds, ...]}."""
    from django.db import connection

    timings: dict[str, list[float]] = defaultdict(list)

    def wrapper(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings[_sql_label(sql)].append(time.perf_counter() - started)

    with connection.execute_wrapper(wrapper):
        yield timings


# --------------------------------------------------------------------------- phase: COPY


def phase_copy(path: Path) -> dict[str, Any]:
    _setup_django()
    from django.db import connection

    with open(path, newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle))
    columns = ", ".join(f'"{name}" text' for name in header)
    rss_start = _rss_mb()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
        cursor.execute("DROP TABLE IF EXISTS bench_raw")
        cursor.execute(f"CREATE TABLE bench_raw ({columns})")
        started = time.perf_counter()
        with (
            open(path, "rb") as raw,
            cursor.copy("COPY bench_raw FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := raw.read(COPY_CHUNK):
                copy.write(chunk)
        seconds = time.perf_counter() - started
        cursor.execute("SELECT count(*) FROM bench_raw")
        rows = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_raw")
    _log(f"  COPY: {rows:,} rows in {seconds:.2f} s")
    return {
        "seconds": seconds,
        "rows": rows,
        "bytes": path.stat().st_size,
        "columns": len(header),
        "server_version": server_version,
        "rss_start_mb": rss_start,
        "peak_rss_mb": _peak_rss_mb(),
    }


# --------------------------------------------------------------------------- phase: import


def phase_import(path: Path) -> dict[str, Any]:
    _setup_django()
    from tqdm import tqdm

    from catalog.services import imports

    parse_seconds = 0.0
    original_parse_row = imports.parse_row

    def timed_parse_row(raw: Any) -> dict[str, Any]:
        nonlocal parse_seconds
        started = time.perf_counter()
        try:
            return original_parse_row(raw)
        finally:
            parse_seconds += time.perf_counter() - started

    imports.parse_row = timed_parse_row  # only in this child process
    rss_start = _rss_mb()
    bar = tqdm(desc="  rows", unit=" rows", file=sys.stderr, mininterval=1.0, leave=False)

    def on_progress(count: int) -> None:
        bar.update(count - bar.n)

    with _timed_sql() as timings:
        started = time.perf_counter()
        summary = imports.catalog_import_file(path=path, on_progress=on_progress)
        seconds = time.perf_counter() - started
    bar.close()
    imports.parse_row = original_parse_row
    reasons = Counter(row.reason.split(":")[0] for row in summary.rejected)
    statements = sorted(
        ((label, sum(times), len(times)) for label, times in timings.items()),
        key=lambda item: -item[1],
    )
    return {
        "seconds": seconds,
        "summary": summary.as_dict(),
        "rejected_examples": [
            f"row {row.row} {row.track_id or '(no id)'}: {row.reason}"
            for row in summary.rejected[:5]
        ],
        "rejected_reasons": dict(reasons),
        "parse_seconds": parse_seconds,
        "sql_seconds": sum(total for _, total, _ in statements),
        "statements": statements,
        "rss_start_mb": rss_start,
        "peak_rss_mb": _peak_rss_mb(),
    }


# --------------------------------------------------------------------------- phase: search


@dataclass
class Query:
    kind: str
    text: str
    typo: bool
    spotify_id: str = ""  # the target track ("title", "artist+title", "non-latin")
    artist: str = ""  # the target artist ("artist": any of their tracks counts)
    clean: str = ""  # the query before the typo


@dataclass
class Timed:
    query: Query
    ms: float
    hit: bool | None
    results: int
    statements: list[tuple[str, float]] = field(default_factory=list)


def _non_latin_letter(ch: str) -> bool:
    # 0x1E00–0x1EFF is Latin Extended Additional (Vietnamese): still Latin.
    return ch.isalpha() and ord(ch) >= 0x370 and not 0x1E00 <= ord(ch) <= 0x1EFF


def _is_non_latin(text: str) -> bool:
    return any(_non_latin_letter(ch) for ch in text)


def _script(text: str) -> str:
    for ch in text:
        if _non_latin_letter(ch):
            name = unicodedata.name(ch, "")
            for script in ("HANGUL", "HIRAGANA", "KATAKANA", "CJK", "CYRILLIC"):
                if name.startswith(script):
                    return "kana" if script in ("HIRAGANA", "KATAKANA") else script.lower()
            return "other"
    return "latin"


def _typeable_title(title: str) -> str:
    """What someone types for a title: no "(feat. …)", no " - Remastered 2011", ≤ 6 words."""
    short = re.sub(r"\s*[(\[].*?[)\]]", "", title)
    short = re.split(r"\s+-\s+", short)[0].strip()
    words = short.split()[:TITLE_MAX_WORDS]
    short = " ".join(words)
    return short if len(short) >= 3 else title


def _typo_word(word: str, rng: random.Random) -> str:
    """One typo, never in the first letter: swap two adjacent letters, drop one or replace one."""
    for _ in range(10):
        op = rng.choice(("swap", "drop", "replace"))
        j = rng.randrange(1, len(word) - 1)
        if op == "swap":
            typo = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        elif op == "drop":
            typo = word[:j] + word[j + 1 :]
        else:
            letters = [c for c in string.ascii_lowercase if c != word[j].lower()]
            typo = word[:j] + rng.choice(letters) + word[j + 1 :]
        if typo.lower() != word.lower():
            return typo
    return word


def _add_typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    eligible = [
        i
        for i, word in enumerate(words)
        if len(word) >= 4 and word.isalpha() and all(ord(ch) < 0x250 for ch in word)
    ]
    if not eligible:
        return text
    i = rng.choice(eligible)
    words[i] = _typo_word(words[i], rng)
    return " ".join(words)


def load_tracks(path: Path) -> list[dict[str, str]]:
    """One row per track (its first), in file order; rows without a title or artist skipped."""
    tracks: dict[str, dict[str, str]] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            if row["track_id"] not in tracks and row["track_name"].strip() and row["artists"]:
                tracks[row["track_id"]] = row
    return list(tracks.values())


def _make_query(kind: str, row: dict[str, str], rng: random.Random) -> Query | None:
    """One query of ``kind`` for a track (None when this track gives no usable query)."""
    artist = row["artists"].split(";")[0].strip()
    title = _typeable_title(row["track_name"].strip())
    if kind == "non-latin" and not _is_non_latin(title):
        title = row["track_name"].strip()  # the non-Latin part was in brackets
    query = Query(kind=kind, text="", typo=False)
    if kind in ("title", "non-latin"):
        query.text, query.spotify_id = title, row["track_id"]
    elif kind == "artist":
        query.text, query.artist = artist, artist
    elif kind == "artist+title":
        artist_words = [w for w in artist.split() if len(w) >= 2] or artist.split()
        title_words = [w for w in title.split() if len(w) >= 2] or title.split()
        parts = [max(artist_words, key=len), " ".join(title_words[: rng.choice((1, 2))])]
        if rng.random() < 0.5:
            parts.reverse()
        query.text, query.spotify_id = " ".join(parts), row["track_id"]
    else:  # a plain single word of a title
        words = re.findall(r"[A-Za-z]{4,}", title)
        if not words:
            return None
        query.text = rng.choice(words)
    if rng.random() < 0.5:
        query.text = query.text.lower()
    if len(" ".join(query.text.split())) < 2:
        return None
    return query


def build_queries(tracks: list[dict[str, str]], count: int, seed: int) -> list[Query]:
    """``count`` queries in the proportions of QUERY_MIX, the same for the same file and seed."""
    rng = random.Random(seed)
    rows = list(tracks)
    rng.shuffle(rows)
    latin = (row for row in rows if not _is_non_latin(row["track_name"]))
    by_script: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if _is_non_latin(row["track_name"]):
            by_script[_script(row["track_name"])].append(row)
    scripts = sorted(by_script)

    def next_row(kind: str, index: int) -> dict[str, str]:
        if kind == "non-latin":
            return by_script[scripts[index % len(scripts)]].pop()
        return next(latin)

    queries: list[Query] = []
    total = sum(n for _, n, _ in QUERY_MIX)
    for kind, share, typos in QUERY_MIX:
        for index in range(max(1, round(count * share / total))):
            query = None
            while query is None:  # e.g. "刃": the product refuses 1-character searches
                query = _make_query(kind, next_row(kind, index), rng)
            query.clean = query.text
            if typos and rng.random() < TYPO_SHARE:
                query.text = _add_typo(query.text, rng)
                query.typo = query.text != query.clean
            queries.append(query)
    rng.shuffle(queries)
    return queries[:count]


def _measure(queries: list[Query], track_ids: dict[str, int]) -> list[Timed]:
    from catalog.selectors import track_search

    results: list[Timed] = []
    for query in queries:
        with _timed_sql() as timings:
            started = time.perf_counter()
            found = track_search(query=query.text, limit=20)
            ms = (time.perf_counter() - started) * 1000
        top = found[:10]
        hit: bool | None
        if query.spotify_id:
            hit = track_ids.get(query.spotify_id) in {track.id for track in top}
        elif query.artist:
            hit = any(
                credit.artist.name == query.artist
                for track in top
                for credit in track.track_artists.all()
            )
        else:
            hit = None
        statements = [(label, sum(times) * 1000) for label, times in timings.items()]
        statements.append(("Python (outside SQL)", ms - sum(ms for _, ms in statements)))
        results.append(Timed(query, ms, hit, len(found), statements))
    return results


def _summarise(results: list[Timed]) -> dict[str, Any]:
    latencies = sorted(r.ms for r in results)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, round(p / 100 * (len(latencies) - 1)))]

    by_kind: dict[str, dict[str, Any]] = {}
    for kind, _, _ in QUERY_MIX:
        rows = [r for r in results if r.query.kind == kind]
        judged = [r for r in rows if r.hit is not None]
        by_kind[kind] = {
            "n": len(rows),
            "typos": sum(r.query.typo for r in rows),
            "p50_ms": statistics.median(r.ms for r in rows) if rows else 0.0,
            "max_ms": max((r.ms for r in rows), default=0.0),
            "judged": len(judged),
            "hits": sum(bool(r.hit) for r in judged),
        }
    judged = [r for r in results if r.hit is not None]
    stage_totals: dict[str, float] = defaultdict(float)
    for r in results:
        for label, ms in r.statements:
            stage_totals[label] += ms
    return {
        "queries": len(results),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": latencies[-1],
        "mean_ms": statistics.fmean(latencies),
        "judged": len(judged),
        "hits": sum(bool(r.hit) for r in judged),
        "by_kind": by_kind,
        "stage_ms": dict(sorted(stage_totals.items(), key=lambda item: -item[1])),
        "slowest": [
            {**asdict(r.query), "ms": r.ms, "results": r.results, "statements": r.statements}
            for r in sorted(results, key=lambda r: -r.ms)[:8]
        ],
        "misses": [
            {**asdict(r.query), "ms": r.ms, "results": r.results} for r in judged if not r.hit
        ],
    }


MAINTAINED_TABLES = ("catalog_search_term", "catalog_track")


def _maintenance() -> dict[str, str]:
    """When autovacuum last processed the search tables (it also empties GIN pending lists)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, greatest(last_autovacuum, last_autoanalyze)::text "
            "FROM pg_stat_user_tables WHERE relname = ANY(%s)",
            [list(MAINTAINED_TABLES)],
        )
        return {name: when or "never" for name, when in cursor.fetchall()}


def phase_search(path: Path) -> dict[str, Any]:
    """Two passes over the same queries: as the import leaves the database, then after
    ``VACUUM (ANALYZE)`` of the search tables (the state autovacuum reaches a little later)."""
    _setup_django()
    from django.db import connection

    from catalog.models import Track
    from catalog.selectors import track_search

    tracks = load_tracks(path)
    measured = build_queries(tracks, SEARCH_QUERIES, SEED)
    warmup = build_queries(tracks, WARMUP_QUERIES, SEED + 1)
    # The ~90k rows would make every full garbage collection (and so random searches) slow.
    del tracks
    gc.collect()
    wanted = {q.spotify_id for q in measured if q.spotify_id}
    track_ids = dict(Track.objects.filter(spotify_id__in=wanted).values_list("spotify_id", "id"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM catalog_track")
        catalog_size = cursor.fetchone()[0]

    rss_start = _rss_mb()
    maintenance_before = _maintenance()
    for query in warmup:
        track_search(query=query.text, limit=20)
    first = _summarise(_measure(measured, track_ids))
    maintenance_after = _maintenance()
    _log("  VACUUM (ANALYZE) " + ", ".join(MAINTAINED_TABLES) + " …")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(MAINTAINED_TABLES)}")
    vacuum_seconds = time.perf_counter() - started
    second = _summarise(_measure(measured, track_ids))
    return {
        "catalog_tracks": catalog_size,
        "after_import": first,
        "after_vacuum": second,
        "vacuum_seconds": vacuum_seconds,
        "autovacuum_during_first_pass": sorted(
            name
            for name in MAINTAINED_TABLES
            if maintenance_before.get(name) != maintenance_after.get(name)
        ),
        "examples": [asdict(q) for q in measured[:12]],
        "rss_start_mb": rss_start,
        "peak_rss_mb": _peak_rss_mb(),
    }


PHASES: dict[str, Callable[[Path], dict[str, Any]]] = {
    "copy": phase_copy,
    "import": phase_import,
    "search": phase_search,
}


# --------------------------------------------------------------------------- the report


def _run_phase(phase: str, path: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "result.json"
        command = [sys.executable, __file__, "--phase", phase, "--result", str(result), str(path)]
        started = time.perf_counter()
        subprocess.run(command, check=True)
        data = json.loads(result.read_text())
        data["process_seconds"] = time.perf_counter() - started
        return data


def _machine() -> dict[str, str]:
    model = "?"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = "?"
    try:
        with open("/proc/meminfo") as handle:
            kib = int(handle.readline().split()[1])
            memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": model,
        "memory": memory,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _print_import(name: str, data: dict[str, Any], copy_seconds: float) -> None:
    s = data["summary"]
    seconds = data["seconds"]
    print(f"\n== {name}")
    print(f"  wall time        {seconds:8.2f} s   ({s['rows_read'] / seconds:,.0f} rows/s)")
    print(f"  vs COPY          {seconds / copy_seconds:8.1f} x")
    print(
        f"  tracks           {s['tracks_in_file']:,} in file: {s['created']:,} created, "
        f"{s['updated']:,} updated, {s['unchanged']:,} unchanged; "
        f"{s['rejected']:,} rows rejected"
    )
    print(
        f"  also created     {s['genres_created']:,} genres, {s['artists_created']:,} artists, "
        f"{s['albums_created']:,} albums"
    )
    for example in data["rejected_examples"]:
        print(f"  rejected         {example}")
    print(
        f"  peak memory      {data['peak_rss_mb']:8.0f} MB RSS "
        f"(process at {data['rss_start_mb']:.0f} MB before the import)"
    )
    other = seconds - data["sql_seconds"] - data["parse_seconds"]
    print("  where the time goes:")
    print(f"    {data['parse_seconds']:7.2f} s  row validation in Python (parse_row)")
    print(f"    {other:7.2f} s  CSV reading, COPY to the staging table, commit, other Python")
    print(f"    {data['sql_seconds']:7.2f} s  SQL statements, of which:")
    for label, total, calls in data["statements"][:8]:
        if total >= 0.05:
            times = f" ({calls}x)" if calls > 1 else ""
            print(f"    {total:9.2f} s  {label}{times}")


def _print_search_pass(title: str, data: dict[str, Any]) -> None:
    print(f"  -- {title}")
    print(
        f"  latency          p50 {data['p50_ms']:.1f} ms, p95 {data['p95_ms']:.1f} ms, "
        f"p99 {data['p99_ms']:.1f} ms, max {data['max_ms']:.1f} ms "
        f"(mean {data['mean_ms']:.1f} ms)"
    )
    print("  by kind          n  typos  p50 ms  max ms  hit@10")
    for kind, row in data["by_kind"].items():
        hits = f"{row['hits']}/{row['judged']}" if row["judged"] else "—"
        print(
            f"    {kind:<13}{row['n']:4}{row['typos']:7}{row['p50_ms']:8.1f}"
            f"{row['max_ms']:8.1f}  {hits}"
        )
    print("  time per stage (sum over all queries):")
    for label, ms in data["stage_ms"].items():
        print(f"    {ms:8.0f} ms  {label}")
    print("  slowest queries:")
    for row in data["slowest"][:5]:
        stages = ", ".join(f"{label} {ms:.0f}" for label, ms in row["statements"] if ms >= 1)
        print(f"    {row['ms']:6.1f} ms  [{row['kind']}] {row['text']!r}  ({stages})")


def report(path: Path) -> int:
    machine = _machine()
    print(f"catalog import and search benchmark — {path}")
    print(f"machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory']} RAM, ", end="")
    print(f"Linux {machine['kernel']}, Python {machine['python']}")

    _log("\n[1/4] PostgreSQL COPY (the floor) …")
    copy = _run_phase("copy", path)
    print(f"PostgreSQL {copy['server_version']}")
    print("\n== floor: PostgreSQL COPY into a bare table")
    print(
        f"  {copy['rows']:,} rows, {copy['columns']} text columns, "
        f"{copy['bytes'] / 1e6:.1f} MB: {copy['seconds']:.2f} s "
        f"({copy['rows'] / copy['seconds']:,.0f} rows/s)"
    )

    _log("\n[2/4] fresh import …")
    first = _run_phase("import", path)
    _print_import("fresh import (empty catalog)", first, copy["seconds"])

    _log("\n[3/4] re-import of the unchanged file …")
    second = _run_phase("import", path)
    _print_import("re-import (same file)", second, copy["seconds"])

    _log("\n[4/4] search …")
    search = _run_phase("search", path)
    pass1, pass2 = search["after_import"], search["after_vacuum"]
    print(f"\n== search: {pass1['queries']} queries over {search['catalog_tracks']:,} tracks")
    examples = ", ".join(repr(row["text"]) for row in search["examples"])
    print(f"  first queries    {examples}")
    print(
        f"  hit@10           {pass1['hits']}/{pass1['judged']} "
        f"({100 * pass1['hits'] / pass1['judged']:.0f} %) of the queries with a target"
        + ("" if pass2["hits"] == pass1["hits"] else f" ({pass2['hits']} in pass 2)")
    )
    for title, data in (
        ("pass 1: right after the imports", pass1),
        (f"pass 2: after VACUUM (ANALYZE) ({search['vacuum_seconds']:.1f} s)", pass2),
    ):
        _print_search_pass(title, data)
    if search["autovacuum_during_first_pass"]:
        tables = ", ".join(search["autovacuum_during_first_pass"])
        print(f"  note: autovacuum processed {tables} during pass 1")
    print(f"  misses ({len(pass1['misses'])}):")
    for row in pass1["misses"]:
        typo = f" (typed for {row['clean']!r})" if row["typo"] else ""
        print(f"    [{row['kind']}] {row['text']!r}{typo}")
    print(f"  peak memory      {search['peak_rss_mb']:.0f} MB RSS")

    peak = max(first["peak_rss_mb"], second["peak_rss_mb"])
    share = second["seconds"] / first["seconds"]
    rows = (
        (
            "fresh import",
            f"{first['seconds']:.1f} s",
            f"< {TARGET_IMPORT_SECONDS:.0f} s",
            first["seconds"] < TARGET_IMPORT_SECONDS,
        ),
        (
            "peak memory (import)",
            f"{peak:.0f} MB",
            f"< {TARGET_PEAK_MB:.0f} MB",
            peak < TARGET_PEAK_MB,
        ),
        (
            "re-import",
            f"{second['seconds']:.1f} s ({100 * share:.0f} %)",
            f"< {100 * TARGET_REIMPORT_SHARE:.0f} % of import",
            share < TARGET_REIMPORT_SHARE,
        ),
        (
            "re-import changes",
            f"{second['summary']['created']} created, {second['summary']['updated']} updated",
            "0 and 0",
            second["summary"]["created"] == 0 and second["summary"]["updated"] == 0,
        ),
        (
            "search p95, after import",
            f"{pass1['p95_ms']:.1f} ms",
            f"< {TARGET_SEARCH_P95_MS:.0f} ms",
            pass1["p95_ms"] < TARGET_SEARCH_P95_MS,
        ),
        (
            "search p95, after VACUUM",
            f"{pass2['p95_ms']:.1f} ms",
            f"< {TARGET_SEARCH_P95_MS:.0f} ms",
            pass2["p95_ms"] < TARGET_SEARCH_P95_MS,
        ),
    )
    print("\n== targets")
    for name, value, target, ok in rows:
        print(f"  {name:<26}{value:<28}{target:<20}{_verdict(ok)}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="the catalog CSV (e.g. spotify_tracks.csv)")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.path.is_file():
        parser.error(f"{args.path} is not a file")
    if args.phase:
        data = PHASES[args.phase](args.path.resolve())
        args.result.write_text(json.dumps(data))
        return 0
    return report(args.path.resolve())


if __name__ == "__main__":
    raise SystemExit(main())
