"""Content vectors at catalog scale: what embedding costs in an import, and HNSW against an
exact scan (time and recall@k) on the real content vectors.

    .venv/bin/python -m musicrec.stack bench -- .venv/bin/python scripts/bench_vectors.py PATH

The launcher gives it a fresh, empty database (``var/bench/``). Phases:

1. ``import``: ``catalog_import_file(PATH)`` with the ``tracks_changed`` hooks timed (the
   content vectors of every imported track, written in the import's transaction);
2. ``refresh``: ``track_content_refresh()`` of the whole catalog again (nothing changed: every
   vector is computed and compared, none written), then with every vector deleted first (all
   written: the daily task's worst case);
3. ``search``: ``--queries`` tracks drawn with a fixed seed; for each, ``similar_tracks_by_content``
   (HNSW) and its exact twin, timed (after ``--warmup`` queries of each), recall@k counting a tie
   at the k-th exact distance as found. With ``--ef`` several ``hnsw.ef_search`` values in turn.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", help="the catalog CSV (spotify_tracks.csv)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--ef", type=int, nargs="*", default=[40, 100, 200])
    args = parser.parse_args()

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
    django.setup()

    import numpy as np
    from django.conf import settings
    from django.db import connection

    from catalog.services.imports import catalog_import_file
    from musicrec import registry
    from recommendations.models import TrackContent
    from recommendations.selectors import vectors
    from recommendations.services.content import track_content_refresh

    # 1. import, with each tracks_changed hook timed
    hook_seconds: dict[str, float] = {}

    def timed(name: str, hook):  # type: ignore[no-untyped-def]
        def run(track_ids: list[int]) -> None:
            started = time.perf_counter()
            hook(track_ids)
            hook_seconds[name] = hook_seconds.get(name, 0.0) + time.perf_counter() - started

        return run

    for name, hook in registry.tracks_changed.items():
        registry.tracks_changed.register(name, timed(name, hook))
    started = time.perf_counter()
    summary = catalog_import_file(path=args.path)
    import_seconds = time.perf_counter() - started
    print(f"import: {summary.created} tracks created in {import_seconds:.1f} s")
    for name, seconds in hook_seconds.items():
        print(f"  hook {name}: {seconds:.1f} s ({100 * seconds / import_seconds:.0f} % of it)")
    print(f"  content vectors stored: {TrackContent.objects.count()}")

    # 2. whole-catalog refresh, unchanged and from nothing
    unchanged = track_content_refresh()
    print(
        f"refresh, nothing changed: {unchanged.tracks} tracks, {unchanged.written} written, "
        f"{unchanged.seconds:.1f} s"
    )
    TrackContent.objects.all().delete()
    rebuilt = track_content_refresh()
    print(
        f"refresh, from nothing: {rebuilt.tracks} tracks, {rebuilt.written} written, "
        f"{rebuilt.seconds:.1f} s"
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE recommendations_trackcontent")

    # 3. HNSW against the exact scan
    ids = np.array(TrackContent.objects.order_by("track_id").values_list("track_id", flat=True))
    rng = np.random.default_rng(11)
    queries = rng.choice(ids, size=args.queries + args.warmup, replace=False).tolist()
    k = args.k

    def recall(found: list, exact: list) -> float:
        edge = exact[-1].distance + 1e-6
        exact_ids = {n.id for n in exact}
        hits = sum(1 for n in found if n.id in exact_ids or n.distance <= edge)
        return min(hits, len(exact)) / len(exact)

    exact_results = {}
    exact_times = []
    for i, track_id in enumerate(queries):
        started = time.perf_counter()
        exact_results[track_id] = vectors.similar_tracks_by_content_exact(track_id=track_id, k=k)
        if i >= args.warmup:
            exact_times.append(1000 * (time.perf_counter() - started))
    print(
        f"exact scan, k={k}: p50 {statistics.median(exact_times):.1f} ms, "
        f"p95 {np.percentile(exact_times, 95):.1f} ms over {len(exact_times)} queries"
    )
    for ef in args.ef:
        settings.RECOMMENDER["vectors"]["hnsw_ef_search"] = ef
        times, recalls, short = [], [], 0
        for i, track_id in enumerate(queries):
            started = time.perf_counter()
            found = vectors.similar_tracks_by_content(track_id=track_id, k=k)
            elapsed = 1000 * (time.perf_counter() - started)
            if i < args.warmup:
                continue
            times.append(elapsed)
            recalls.append(recall(found, exact_results[track_id]))
            short += len(found) < k
        print(
            f"HNSW ef_search={max(ef, k)}, k={k}: p50 {statistics.median(times):.1f} ms, "
            f"p95 {np.percentile(times, 95):.1f} ms, recall@{k} mean {np.mean(recalls):.3f} "
            f"min {np.min(recalls):.2f}, short answers {short}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
