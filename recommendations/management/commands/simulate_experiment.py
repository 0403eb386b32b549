"""``manage.py simulate_experiment LISTENS [--variants A B] [--runs 200] [--seed N]
[--impressions …]``: how many impressions a split test and an interleaving experiment need to
pick the better of two rankers, on simulated listeners whose true taste is known.

Reads the listens folder in place (the mpd_subset format, through
``recommendations.selectors.evaluation.listens_read_folder``, the offline evaluation's reader),
makes the listeners × tracks matrix of it, and hands the rest to the engine
(``recommendations.engine.experiments``): each listener's held-out tracks are what they truly
like; both rankers are fitted on the rest and their offline NDCG says which is better; a click
model with position bias drives both designs over ``--runs`` repetitions. Nothing is read from
or written to the database (the catalog is not needed: tracks are told apart by their Spotify
id, or artist and title). See docs/evaluation.md, "Experiments: split test vs interleaving".
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from django.core.management.base import BaseCommand, CommandError, CommandParser
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from recommendations.engine.experiments import (
    SIMULATION_RANKERS,
    ClickModel,
    simulate_split_and_interleaving,
    simulation_listeners,
)
from recommendations.selectors.evaluation import ListensError, listens_read_folder

DEFAULT_COUNTS = (
    50,
    100,
    200,
    300,
    500,
    700,
    1000,
    1500,
    2000,
    3000,
    5000,
    7000,
    10000,
    15000,
    20000,
    30000,
    50000,
)


#: the largest impressions × tracks per list simulated (about 80 MB per array of a run)
MAX_SERVED_TRACKS = 10_000_000


class Command(BaseCommand):
    help = (
        "Simulate a split test and an interleaving experiment between two rankers on a listens "
        "folder (the mpd_subset format) and print how often each picks the truly better ranker "
        "at 95 % for a grid of impression counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("listens", type=Path, help="listens folder (mpd_subset format)")
        parser.add_argument(
            "--variants",
            nargs=2,
            default=["itemknn", "popularity"],
            choices=SIMULATION_RANKERS,
            metavar="RANKER",
            help=f"the two rankers ({', '.join(SIMULATION_RANKERS)}; default itemknn popularity)",
        )
        parser.add_argument("--runs", type=int, default=200, help="repetitions (default 200)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--impressions",
            type=int,
            nargs="+",
            default=list(DEFAULT_COUNTS),
            metavar="N",
            help="the grid of impression counts (both arms together for the split test)",
        )
        parser.add_argument("--n", type=int, default=10, help="tracks per served list")
        parser.add_argument(
            "--min-tracks", type=int, default=10, help="keep listeners with this many tracks"
        )
        parser.add_argument(
            "--relevant", type=float, default=0.9, help="P(click | looked at, truly liked)"
        )
        parser.add_argument("--noise", type=float, default=0.02, help="P(click | looked at, other)")
        parser.add_argument(
            "--activity",
            type=float,
            default=0.0,
            help="spread (σ of the log) of how much listeners click at all (0: all alike)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    def handle(self, *args: Any, **options: Any) -> None:
        runs: int = options["runs"]
        counts: list[int] = sorted(set(options["impressions"]))
        first, second = options["variants"]
        if first == second:
            raise CommandError("--variants needs two different rankers")
        if runs < 1:
            raise CommandError("--runs must be at least 1")
        if any(count < 4 for count in counts):
            raise CommandError("--impressions must be at least 4 each")
        if not 1 <= options["n"] <= 100:
            raise CommandError("--n must be from 1 to 100")
        if counts[-1] * options["n"] > MAX_SERVED_TRACKS:
            # each run holds every impression's clicks in memory (a few float arrays of
            # impressions × n): bounded before anything is read or fitted
            raise CommandError(
                f"--impressions × --n must be at most {MAX_SERVED_TRACKS:,} served tracks "
                f"(at most {MAX_SERVED_TRACKS // 10:,} lists of 10)"
            )
        if options["min_tracks"] < 2:
            raise CommandError("--min-tracks must be at least 2 (one to rank from, one to like)")
        for name in ("relevant", "noise"):
            if not 0.0 <= options[name] <= 1.0:
                raise CommandError(f"--{name} must be a probability from 0 to 1")
        if not 0.0 <= options["activity"] <= 3.0:
            raise CommandError("--activity must be from 0 to 3")
        quiet = options["no_progress"]
        started = time.perf_counter()

        path: Path = options["listens"].expanduser()
        with tqdm(
            desc=f"reading {path.name}", unit=" rows", disable=quiet, file=self.stderr._out
        ) as bar:
            try:
                playlists, rows = listens_read_folder(
                    path=path, on_row=lambda count: bar.update(count - bar.n)
                )
            except ListensError as error:
                raise CommandError(str(error)) from error
        matrix = _matrix(playlists, rows, min_tracks=options["min_tracks"])
        if matrix.shape[0] < 2:
            raise CommandError(
                f"fewer than 2 listeners have {options['min_tracks']} tracks that another "
                "listener also has: nothing to simulate"
            )
        self.stdout.write(
            f"Listens: {len(playlists):,} listeners, {len(rows):,} rows; kept {matrix.shape[0]:,} "
            f"listeners with ≥ {options['min_tracks']} of the {matrix.shape[1]:,} tracks "
            f"at least two listeners have ({matrix.nnz:,} pairs)."
        )
        with threadpool_limits(int(os.environ.get("OPENBLAS_NUM_THREADS", "1")), "blas"):
            simulated = simulation_listeners(
                matrix, (first, second), n=options["n"], seed=options["seed"]
            )
        better, worse = sorted((first, second), key=lambda name: -simulated.ndcg[name])
        self.stdout.write(
            f"Rankers (fitted on 80 % of each listener's tracks; NDCG@{options['n']} on the "
            f"held-out 20 %, {len(simulated.liked):,} listeners): "
            + ", ".join(f"{name} {simulated.ndcg[name]:.4f}" for name in (better, worse))
            + f". Truly better: {better}."
        )
        clicks = ClickModel(
            relevant=options["relevant"], noise=options["noise"], activity=options["activity"]
        )
        with tqdm(total=runs, desc="simulating", disable=quiet, file=self.stderr._out) as bar:
            result = simulate_split_and_interleaving(
                simulated.lists[better],
                simulated.lists[worse],
                simulated.liked,
                n=options["n"],
                counts=counts,
                runs=runs,
                seed=options["seed"],
                clicks=clicks,
                on_run=lambda: bar.update(1),
            )
        self.stdout.write(
            f"Click model: position p looked at with 1/log2(1+p); a truly liked track clicked "
            f"with {clicks.relevant:g}, another with {clicks.noise:g}; listeners' activity "
            f"spread {clicks.activity:g}. Expected click-through: "
            f"{better} {result.expected_ctr[0]:.4f}, {worse} {result.expected_ctr[1]:.4f}; "
            f"interleaving credits {better} in {result.interleave_preference:.1%} of credited "
            "lists."
        )
        self.stdout.write(
            f"\nShare of {runs} runs that picked {better} at 95 % (wrong way round in brackets)"
        )
        self.stdout.write(f"{'impressions':>12}  {'split test':>16}  {'interleaving':>16}")
        for index, count in enumerate(result.counts):
            self.stdout.write(
                f"{count:>12,}  "
                f"{_share(result.split_correct[index], result.split_wrong[index]):>16}  "
                f"{_share(result.interleave_correct[index], result.interleave_wrong[index]):>16}"
            )
        split_needed, mixed_needed = result.needed("split"), result.needed("interleave")
        self.stdout.write(
            f"\nSmallest count reaching {result.target:.0%} of runs: split test "
            f"{_count(split_needed)}, interleaving {_count(mixed_needed)}."
        )
        self.stdout.write(f"Done in {time.perf_counter() - started:.0f} s.")


def _share(correct: float, wrong: float) -> str:
    return f"{correct:6.1%} ({wrong:.1%})"


def _count(count: int | None) -> str:
    return f"{count:,}" if count is not None else "not within the grid"


def _matrix(
    playlists: list[str], rows: list[tuple[str, str, str, str]], *, min_tracks: int
) -> sp.csr_matrix:
    """Listeners × tracks (1 per distinct pair) of the rows, a track told apart by its Spotify
    id (else its artist and title, case-folded); only tracks at least two listeners have (a
    ranker learns nothing from the others) and then listeners with ``min_tracks`` of them."""
    listener_of = {pid: index for index, pid in enumerate(playlists)}
    track_of: dict[tuple[str, str, str], int] = {}
    pairs = np.empty((len(rows), 2), dtype=np.int64)
    for index, (pid, spotify_id, artist, title) in enumerate(rows):
        key = (spotify_id, "", "") if spotify_id else ("", artist.casefold(), title.casefold())
        pairs[index] = listener_of[pid], track_of.setdefault(key, len(track_of))
    pairs = np.unique(pairs, axis=0) if len(pairs) else pairs
    listeners = np.bincount(pairs[:, 1], minlength=len(track_of)) if len(pairs) else np.zeros(0)
    pairs = pairs[listeners[pairs[:, 1]] >= 2] if len(pairs) else pairs
    per_listener = np.bincount(pairs[:, 0], minlength=len(playlists)) if len(pairs) else None
    if per_listener is None:
        return sp.csr_matrix((0, 0), dtype=np.float32)
    pairs = pairs[per_listener[pairs[:, 0]] >= min_tracks]
    _, users = np.unique(pairs[:, 0], return_inverse=True)
    _, tracks = np.unique(pairs[:, 1], return_inverse=True)
    shape = (int(users.max()) + 1 if len(users) else 0, int(tracks.max()) + 1 if len(tracks) else 0)
    return sp.csr_matrix(
        (np.ones(len(pairs), dtype=np.float32), (users, tracks)), shape=shape, dtype=np.float32
    )
