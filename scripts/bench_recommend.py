"""Serving the recommender at catalog scale: training, one listener's recommendations (engine
alone and the whole service with the database), HNSW against an exact scan, fold-in, and the
memory of a web process holding the model.

    make bench-recommend   # CATALOG=… LISTENS=…, which runs:
    .venv/bin/python -m musicrec.stack bench -- .venv/bin/python scripts/bench_recommend.py \\
        CATALOG_CSV LISTENS_FOLDER

The launcher gives it a fresh, empty database (``var/bench/``). Phases:

1. ``catalog``: ``catalog_import_file(CATALOG_CSV)`` (content vectors included);
2. ``listeners``: the listens folder's playlists (mpd format, matched to the catalog as the
   offline evaluation matches them, ≥ 10 matched tracks) become site listeners with seeded
   demographics, a play per matched track (a fifth of them liked), and the first 50 tracks in
   their history;
3. ``train``: ``refresh_popularity()`` and ``train_embeddings()`` (the phases it reports);
4. ``engine`` / ``service``: ``--requests`` listeners drawn with a fixed seed; for n = 5 and
   n = 100, ``ensemble.recommend`` on prebuilt profiles (engine alone), then
   ``recommendations_for`` (profile read from the database, tracks loaded; uncached), each after
   ``--warmup`` requests; p50 / p95 in ms;
5. ``hnsw``: for the same listeners' stored vectors, ``nearest_tracks(k=50)`` (HNSW) and its
   exact twin: time and recall@50;
6. ``fold-in``: ``listener_vector_refresh`` of the same listeners: p50 / p95;
7. ``memory``: a child process that sets Django up, builds the serving state and answers 20
   requests: its peak RSS (the web process's share of holding the model).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 20261130


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


def _timed(call, items, warmup: int) -> list[float]:  # type: ignore[no-untyped-def]
    for item in items[:warmup]:
        call(item)
    seconds = []
    for item in items:
        started = time.perf_counter()
        call(item)
        seconds.append(time.perf_counter() - started)
    return seconds


def _high_water_mb() -> float:
    """This process's peak RSS (VmHWM: per address space, so unlike ``ru_maxrss`` it does not
    carry the parent's peak across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _memory_child() -> int:
    """Phase 7, in its own process: the peak RSS of holding the model and serving."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
    django.setup()
    from accounts.models import User
    from recommendations.selectors.serving import recommendations_for, serving_state

    base = _high_water_mb()
    state = serving_state()
    users = list(User.objects.filter(is_staff=False).order_by("pk")[:20])
    for user in users:
        recommendations_for(user=user, n=100)
    peak = _high_water_mb()
    print(
        f"memory: Django set up {base:.0f} MB; serving state of {state.engine.n_tracks} tracks "
        f"built in {state.built_seconds:.1f} s; peak RSS after 20 requests {peak:.0f} MB"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("catalog", nargs="?", help="the catalog CSV (spotify_tracks.csv)")
    parser.add_argument("listens", nargs="?", help="a listens folder (mpd_subset format)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="skip phases 1-3 when the database already holds the listeners and an active model "
        "(run under `musicrec.stack bench --keep`)",
    )
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        return _memory_child()
    if not args.catalog or not args.listens:
        parser.error("the catalog CSV and the listens folder are required")

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
    django.setup()

    import numpy as np

    from accounts.models import User
    from recommendations.models import ModelVersion

    rng = np.random.default_rng(SEED)

    reusable = (
        args.reuse
        and ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exists()
        and User.objects.filter(username__startswith="listens-").exists()
    )
    if reusable:
        users = list(User.objects.filter(username__startswith="listens-").order_by("pk"))
        print(f"reusing the last run's catalog, {len(users)} listeners and active model")
    else:
        users = _load(args, rng)
    _measure(args, users)
    return 0


def _load(args: argparse.Namespace, rng):  # type: ignore[no-untyped-def]
    """Phases 1-3: the catalog, the listens as site listeners, training."""
    import numpy as np
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from accounts.models import User
    from catalog.services.imports import catalog_import_file
    from history.models import HistoryEntry, Interaction, Opinion
    from recommendations.selectors.evaluation import evaluation_catalog, listens_match
    from recommendations.services.popularity import refresh_popularity
    from recommendations.services.training import train_embeddings

    # 1. the catalog
    started = time.perf_counter()
    catalog_import_file(path=args.catalog)
    print(f"catalog: imported in {time.perf_counter() - started:.1f} s")

    # 2. the listens data as site listeners
    started = time.perf_counter()
    engine = evaluation_catalog()
    listens = listens_match(path=Path(args.listens), catalog=engine)
    countries = ["US", "GB", "DE", "FR", "BR", "SE", "JP", "MX"]
    unusable = make_password(None)
    with transaction.atomic():
        users = User.objects.bulk_create(
            User(
                username=f"listens-{number}",
                password=unusable,
                age=int(rng.integers(15, 70)),
                country=countries[int(rng.integers(len(countries)))],
                gender=["F", "M", "NB"][int(rng.integers(3))],
            )
            for number in range(listens.n_listeners)
        )
        order = np.argsort(listens.listener, kind="stable")
        by_listener = np.split(listens.track[order], np.cumsum(np.bincount(listens.listener))[:-1])
        interactions, entries, opinions = [], [], []
        for user, tracks in zip(users, by_listener, strict=True):
            ids = engine.track_ids[tracks].tolist()
            interactions += [Interaction(user=user, track_id=t, kind="play") for t in ids]
            entries += [
                HistoryEntry(user=user, track_id=t, slot=slot)
                for slot, t in enumerate(ids[:50], start=1)
            ]
            liked = [t for t in ids if rng.random() < 0.2]
            opinions += [Opinion(user=user, track_id=t, value="like") for t in liked]
        Interaction.objects.bulk_create(interactions, batch_size=5000)
        HistoryEntry.objects.bulk_create(entries, batch_size=5000)
        Opinion.objects.bulk_create(opinions, batch_size=5000)
    print(
        f"listeners: {len(users)} from {listens.matching.playlists} playlists, "
        f"{len(interactions)} plays, {len(entries)} history entries, {len(opinions)} likes "
        f"in {time.perf_counter() - started:.1f} s"
    )

    # 3. training
    started = time.perf_counter()
    refreshed = refresh_popularity()
    print(f"popularity views refreshed in {time.perf_counter() - started:.1f} s ({refreshed})")
    outcome = train_embeddings()
    phases = ", ".join(f"{name} {seconds:.1f}" for name, seconds in outcome.seconds.items())
    print(f"training: {outcome.total_seconds:.1f} s ({phases})")
    return users


def _measure(args: argparse.Namespace, users) -> None:  # type: ignore[no-untyped-def]
    """Phases 4-7."""
    import numpy as np

    from recommendations.engine.ensemble import recommend
    from recommendations.selectors import vectors
    from recommendations.selectors.serving import (
        listener_profile,
        recommendations_for,
        serving_state,
    )
    from recommendations.services.listeners import listener_vector_refresh

    # 4. recommendations
    state = serving_state()
    sources = ", ".join(state.predictors)
    print(f"serving state: built in {state.built_seconds:.1f} s, sources {sources}")
    # a generator of its own: the same listeners whether the data was loaded now or reused
    pick = np.random.default_rng(SEED + 1)
    sample = [users[int(i)] for i in pick.choice(len(users), size=args.requests, replace=False)]
    profiles = [listener_profile(user=user, engine=state.engine) for user in sample]
    for n in (5, 100):
        engine_seconds = _timed(
            lambda p, n=n: recommend(
                p, state.predictors, state.engine.catalog, n=n, params=state.params
            ),
            profiles,
            args.warmup,
        )
        print(f"engine alone, n={n:3d}:  {_ms(engine_seconds)}")
    for n in (5, 100):
        service_seconds = _timed(
            lambda user, n=n: recommendations_for(user=user, n=n), sample, args.warmup
        )
        print(f"full service, n={n:3d}:  {_ms(service_seconds)}")

    # 5. HNSW against an exact scan
    version = state.model_version_id
    queries = [
        vector
        for user in sample
        if (vector := vectors.listener_vector(user_id=user.pk, model_version_id=version))
        is not None
    ]
    found: list[list[int]] = []
    exact: list[list[int]] = []
    hnsw_seconds = _timed(
        lambda v: found.append(
            [t for t, _ in vectors.nearest_tracks(vector=v, k=50, model_version_id=version)]
        ),
        queries,
        0,
    )
    exact_seconds = _timed(
        lambda v: exact.append(
            [t for t, _ in vectors.nearest_tracks_exact(vector=v, k=50, model_version_id=version)]
        ),
        queries,
        0,
    )
    recalls = [len(set(a) & set(b)) / max(len(b), 1) for a, b in zip(found, exact, strict=True)]
    print(f"HNSW k=50:  {_ms(hnsw_seconds)}   recall@50 {statistics.mean(recalls):.3f}")
    print(f"exact k=50: {_ms(exact_seconds)}")

    # 6. fold-in
    fold_seconds = _timed(lambda user: listener_vector_refresh(user_id=user.pk), sample, 0)
    print(f"fold-in:    {_ms(fold_seconds)}")

    # 7. memory of a web process holding the model
    subprocess.run([sys.executable, __file__, "--memory-child"], check=True)


if __name__ == "__main__":
    sys.exit(main())
