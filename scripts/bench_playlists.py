"""Generated playlists at catalog scale: the time of each kind of generation and the sonic
path's smoothness against random orders.

    make bench-playlists   # CATALOG=… LISTENS=…, which runs:
    MUSICREC_BENCH_INSTANCE=playlists .venv/bin/python -m musicrec.stack bench [--keep] -- \\
        .venv/bin/python scripts/bench_playlists.py [--reuse] CATALOG_CSV LISTENS_FOLDER

Its own instance (``var/playlists/``). Phases:

1. ``load`` (skipped with ``--reuse`` when the kept database has listeners and a model): the
   catalog, the listens as site listeners and training, exactly as ``bench_recommend.py``
   loads them (its ``_load``), without the training's holdout figures (not measured here);
2. ``generate``: for ``--requests`` listeners drawn with a fixed seed, each kind at length
   100 (and the path at 20): the selector alone (``recommendations.selectors.sequences``:
   the listener's rows, the engine) and the whole service (``playlist_generate``: also the
   playlist's INSERTs), after ``--warmup`` requests; p50 / p95 in ms, and the queries of one
   generation;
3. ``path``: for ``--paths`` random pairs of tracks, the path's mean step in standardised
   audio features against a random order of its own tracks and a random path between the
   same two ends, how often a step moves forward along start → end, and the largest gap
   between a track's progress and its evenly spaced place;
4. ``radio``: the longest artist run and the drift (mean feature distance from the seed of
   the first ten and last ten tracks).

Figures, not a test: docs/benchmarks.md records them with the machine's load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

SEED = 20261130


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("catalog", nargs="?", help="the catalog CSV (spotify_tracks.csv)")
    parser.add_argument("listens", nargs="?", help="a listens folder (mpd_subset format)")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--paths", type=int, default=50)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded data (--keep)")
    args = parser.parse_args()

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
    django.setup()

    import numpy as np
    from django.conf import settings

    from accounts.models import User
    from recommendations.models import ModelVersion

    settings.RECOMMENDER["figures"]["enabled"] = False  # the holdout is not measured here
    loaded = args.reuse and User.objects.filter(username__startswith="listens-").exists()
    if loaded:
        users = list(User.objects.filter(username__startswith="listens-").order_by("pk"))
        print(f"reusing the kept catalog and {len(users)} listeners")
        if not ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exists():
            _train()  # an earlier run stopped before its model was active
    else:
        if not args.catalog or not args.listens:
            parser.error("the catalog CSV and the listens folder are required")
        from bench_recommend import _load

        users = _load(args, np.random.default_rng(SEED))
    _generate(args, users)
    _paths(args)
    return 0


def _train() -> None:
    from recommendations.services.popularity import refresh_popularity
    from recommendations.services.training import train_embeddings

    started = time.perf_counter()
    refresh_popularity()
    print(f"popularity views refreshed in {time.perf_counter() - started:.1f} s")
    outcome = train_embeddings()
    print(f"training: {outcome.total_seconds:.1f} s")


def _generate(args: argparse.Namespace, users) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from catalog.models import Track
    from playlists.services.generate import playlist_generate
    from recommendations.selectors import sequences
    from recommendations.selectors.serving import serving_state

    started = time.perf_counter()
    state = serving_state()
    built = time.perf_counter() - started
    print(
        f"serving state: {state.engine.n_tracks} tracks, built in {built:.1f} s, "
        f"sources {', '.join(state.predictors)}"
    )
    pick = np.random.default_rng(SEED + 1)
    sample = [users[int(i)] for i in pick.choice(len(users), size=args.requests, replace=False)]
    popular = list(Track.objects.order_by("-popularity", "id").values_list("pk", flat=True)[:2000])
    artist_of = dict(
        Track.objects.filter(pk__in=popular)
        .filter(track_artists__position=0)
        .values_list("pk", "track_artists__artist_id")
    )
    seeds = [popular[int(i)] for i in pick.choice(len(popular), size=args.requests)]
    ends = [
        (popular[int(a)], popular[int(b)])
        for a, b in pick.choice(len(popular), size=(args.requests, 2))
        if a != b
    ]
    ends = (ends * 2)[: args.requests]
    moods = [("energetic", "exercise"), ("calm", "relax"), ("happy", "party"), (None, "focus")]

    def request(kind: str, i: int, length: int) -> dict:  # type: ignore[type-arg]
        if kind == "radio":
            return {"seed_track_id": seeds[i]}
        if kind == "artist radio":
            return {"seed_artist_id": artist_of.get(seeds[i]) or next(iter(artist_of.values()))}
        if kind == "mood":
            mood, activity = moods[i % len(moods)]
            return {"mood": mood, "activity": activity}
        if kind == "path":
            return {"from_track_id": ends[i][0], "to_track_id": ends[i][1]}
        return {}

    selectors = {
        "recommendations": sequences.sequence_recommendations,
        "radio": sequences.sequence_radio,
        "artist radio": sequences.sequence_radio,
        "mood": sequences.sequence_mood,
        "path": sequences.sequence_path,
    }
    for kind, length in [
        ("recommendations", 100),
        ("radio", 100),
        ("artist radio", 100),
        ("mood", 100),
        ("path", 100),
        ("path", 20),
    ]:
        select = selectors[kind]
        timed: list[float] = []
        for i, user in enumerate(sample[: args.warmup] + sample):
            begun = time.perf_counter()
            select(user=user, length=length, seed=i, **request(kind, i % len(sample), length))
            if i >= args.warmup:
                timed.append(time.perf_counter() - begun)
        service: list[float] = []
        queries = 0
        with transaction.atomic():
            for i, user in enumerate(sample):
                begun = time.perf_counter()
                with CaptureQueriesContext(connection) as captured:
                    playlist_generate(
                        owner=user,
                        kind=kind.split()[-1],
                        length=length,
                        seed=i,
                        **request(kind, i, length),
                    )
                service.append(time.perf_counter() - begun)
                queries = max(queries, len(captured.captured_queries))
            transaction.set_rollback(True)
        print(f"{kind:>15} length {length:3d}: selector {_ms(timed)}")
        print(f"{'':>15}             service  {_ms(service)}   queries ≤ {queries}")


def _paths(args: argparse.Namespace) -> None:
    import numpy as np

    from recommendations.engine.sequences import (
        max_artist_run,
        mean_step,
        path_progress,
        radio,
        sonic_path,
    )
    from recommendations.selectors.sequences import _sequence_inputs
    from recommendations.selectors.serving import serving_state

    state = serving_state()
    inputs = _sequence_inputs(state)
    features = inputs.features
    n = state.engine.n_tracks
    rng = np.random.default_rng(SEED + 2)
    allowed = np.ones(n, dtype=bool)
    for length in (20, 100):
        steps, shuffled, random_paths, forward, gap = [], [], [], [], []
        for _ in range(args.paths):
            start, end = (int(x) for x in rng.choice(n, 2, replace=False))
            path = sonic_path(
                features,
                start,
                end,
                length,
                allowed=allowed,
                rng=rng,
                artists=state.engine.catalog.artist,
            )
            steps.append(mean_step(features, path))
            middle = path[1:-1]
            shuffled.append(mean_step(features, [start, *rng.permutation(middle), end]))
            others = rng.choice(n, len(middle), replace=False)
            random_paths.append(mean_step(features, [start, *others, end]))
            progress = path_progress(features, path)
            forward.append(float((np.diff(progress) >= 0).mean()))
            gap.append(float(np.abs(progress - np.linspace(0, 1, len(path))).max()))
        print(
            f"sonic path, length {length:3d}, {args.paths} random pairs: mean step "
            f"{np.mean(steps):.3f} (random order of its tracks {np.mean(shuffled):.3f}, "
            f"random path {np.mean(random_paths):.3f}); steps forward {np.mean(forward):.1%}; "
            f"largest gap to the even place: mean {np.mean(gap):.3f}, worst {np.max(gap):.3f}"
        )
    runs, early, late = [], [], []
    for i in range(args.paths):
        seed_track = int(rng.integers(n))
        tracks = radio(
            [seed_track],
            100,
            catalog=state.engine.catalog,
            similarity=inputs.similarity,
            allowed=allowed,
            rng=np.random.default_rng(i),
            first=seed_track,
        )
        runs.append(max_artist_run(state.engine.catalog.artist[tracks]))
        distance = np.linalg.norm(features[tracks[1:]] - features[seed_track], axis=1)
        early.append(distance[:10].mean())
        late.append(distance[-10:].mean())
    print(
        f"radio, length 100, {args.paths} random seeds: longest artist run {max(runs)}; "
        f"feature distance from the seed, first 10 {np.mean(early):.2f}, last 10 "
        f"{np.mean(late):.2f}"
    )


if __name__ == "__main__":
    sys.exit(main())
