"""A quick offline check of the engine's models on the MPD subset (internal evaluation only:
the data's licence forbids shipping it; it is read in place, never copied).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/engine_mpd_experiment.py \
        ../shared/datasets/listens/mpd_subset --min-playlists 10 [--runs baselines,als]

Playlists act as listeners, tracks are ``track_uri`` (no catalog matching); the only metadata
the subset has is the artist name, so the metadata rows are artists only. Tracks in fewer than
``--min-playlists`` playlists are dropped, then playlists with fewer than 10 remaining tracks.
Split: per playlist 20 % held out (seed 0), NDCG@10 etc. on the test split with the parameters
issue #11 reports (nothing is tuned here, so the test split is not used for tuning).
"""

from __future__ import annotations

import argparse
import collections
import csv
import gzip
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recommendations.engine import matrix as engine_matrix
from recommendations.engine.evaluation import evaluate, train_validation_test
from recommendations.engine.models import (
    AlsModel,
    BlendModel,
    EaseModel,
    ItemKnnModel,
    Model,
    PopularityModel,
)


def load(folder: Path, min_playlists: int) -> tuple[sp.csr_matrix, np.ndarray, int]:
    """The playlist × track matrix (1 per pair), each track's artist index, the artist count."""
    pairs: dict[tuple[str, str], str] = {}
    with gzip.open(folder / "playlist_tracks.csv.gz", "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            pairs[(row["pid"], row["track_uri"])] = row["artist_name"]
    per_track = collections.Counter(uri for _, uri in pairs)
    kept = {(pid, uri): a for (pid, uri), a in pairs.items() if per_track[uri] >= min_playlists}
    per_playlist = collections.Counter(pid for pid, _ in kept)
    kept = {(pid, uri): a for (pid, uri), a in kept.items() if per_playlist[pid] >= 10}
    playlists = {pid: i for i, pid in enumerate(sorted({pid for pid, _ in kept}))}
    tracks = {uri: i for i, uri in enumerate(sorted({uri for _, uri in kept}))}
    artists: dict[str, int] = {}
    track_artist = np.zeros(len(tracks), dtype=np.int64)
    for (_, uri), artist in kept.items():
        track_artist[tracks[uri]] = artists.setdefault(artist, len(artists))
    rows = [playlists[pid] for pid, _ in kept]
    columns = [tracks[uri] for _, uri in kept]
    cells = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=(len(playlists), len(tracks))
    )
    return cells, track_artist, len(artists)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--min-playlists", type=int, default=10)
    parser.add_argument("--artist-weight", type=float, default=2.0)
    parser.add_argument(
        "--runs",
        default="baselines",
        help="comma-separated: baselines (popularity, itemknn, EASE with and without artist "
        "rows), als (ALS with and without artist rows, the EASE+ALS blend), sparse (EASE with "
        "artist rows keeping each track's top 200 / 50 weights, as a web process would serve it)",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    cells, track_artist, n_artists = load(args.folder, args.min_playlists)
    _, test = train_validation_test(cells, 0.2, seed=0)
    print(
        f"{cells.shape[0]} playlists × {cells.shape[1]} tracks, {cells.nnz} pairs, "
        f"{n_artists} artists; loaded and split in {time.perf_counter() - started:.1f} s"
    )
    artist_rows = engine_matrix.metadata_rows(
        cells.shape[1],
        engine_matrix.MetadataKind(
            name="artist",
            track=np.arange(cells.shape[1]),
            group=track_artist,
            n_groups=n_artists,
            weight=args.artist_weight,
        ),
    )
    wanted = set(args.runs.split(","))
    runs: list[tuple[str, Model, sp.csr_matrix | None]] = []
    if "baselines" in wanted:
        runs += [
            ("popularity", PopularityModel(), None),
            ("itemknn (cosine, 100)", ItemKnnModel(neighbours=100), None),
            ("ease λ100", EaseModel(l2=100.0, max_tracks=None), None),
            (
                f"ease λ100 + artist rows ×{args.artist_weight:g}",
                EaseModel(l2=100.0, max_tracks=None),
                artist_rows,
            ),
        ]
    if "als" in wanted:

        def als() -> AlsModel:  # issue #11's strongly regularised setting
            return AlsModel(factors=256, regularization=100.0, alpha=40.0, iterations=30)

        runs += [
            ("als 256/100/40/30", als(), None),
            (f"als + artist rows ×{args.artist_weight:g}", als(), artist_rows),
            (
                "blend 0.5 ease+artist, 0.5 als+artist (z over top 200)",
                BlendModel([EaseModel(l2=100.0, max_tracks=None), als()], [0.5, 0.5]),
                artist_rows,
            ),
        ]
    print(
        f"{'model':56} {'NDCG@10':>8} {'Rec@10':>7} {'cov':>5} {'gini':>5} {'nov':>5} {'fit s':>6}"
    )
    for name, model, extra in runs:
        result = evaluate(model, test, 10, extra_rows=extra)
        print(
            f"{name:56} {result.ndcg:8.4f} {result.recall:7.4f} {result.coverage:5.2f} "
            f"{result.gini:5.2f} {result.novelty:5.2f} {result.fit_seconds:6.1f}"
        )
    if "sparse" in wanted:
        dense = EaseModel(l2=100.0, max_tracks=None)
        dense.fit(sp.vstack([test.train, artist_rows], format="csr"))
        for neighbours in (200, 50):
            result = evaluate(dense.sparse(neighbours), test, 10, fit=False)
            name = f"ease λ100 + artist rows, top {neighbours} neighbours (sparse)"
            print(
                f"{name:56} {result.ndcg:8.4f} {result.recall:7.4f} {result.coverage:5.2f} "
                f"{result.gini:5.2f} {result.novelty:5.2f} {'-':>6}"
            )
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
