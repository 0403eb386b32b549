"""``manage.py evaluate_recommender --listens PATH [--k 10 20 50] [--seed N] [--out DIR]
[--quick]``: the offline evaluation of the recommender on held-out listening data.

Reads the listens folder in place (``recommendations.selectors.evaluation``), maps it to the
site's catalog, and runs ``recommendations.engine.offline.run``: tuning on validation, then the
hybrid (the site's engine) and the baselines once on test. Nothing is written to the database
and the site's listeners are never read. See docs/evaluation.md.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from recommendations.engine import offline, tuning
from recommendations.engine.offline import Listens
from recommendations.selectors.evaluation import (
    ListensError,
    evaluation_catalog,
    listens_match,
)
from recommendations.selectors.params import recommender_params

MODEL_ORDER = ("hybrid", "popularity", "itemknn", "als", "ease")


class _Bars(offline.Progress):
    """One tqdm bar per phase, on the command's stderr."""

    def __init__(self, stream: Any, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.bar: tqdm | None = None

    def phase(self, name: str, total: int) -> None:
        self.close()
        self.bar = tqdm(
            total=total or None, desc=name, file=self.stream, disable=not self.enabled, leave=True
        )

    def step(self, text: str = "") -> None:
        if self.bar is not None:
            if text:
                self.bar.set_postfix_str(text[:60], refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Command(BaseCommand):
    help = (
        "Evaluate the recommender offline on a listens folder (playlists.csv + "
        "playlist_tracks.csv.gz, the mpd_subset format): tune on validation, report the hybrid "
        "and the baselines on test. Reads only the catalog; writes nothing to the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--listens", type=Path, required=True, metavar="PATH")
        parser.add_argument("--k", type=int, nargs="+", default=[10, 20, 50], metavar="K")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--out", type=Path, metavar="DIR", help="write evaluation.json and a PNG"
        )
        parser.add_argument(
            "--quick", action="store_true", help="tiny tuning grids (tests, a first look)"
        )
        parser.add_argument(
            "--min-tracks", type=int, default=10, help="keep listeners with this many matches"
        )
        parser.add_argument(
            "--no-whole-catalog",
            action="store_true",
            help="skip the hybrid with the whole catalog as candidates",
        )
        parser.add_argument(
            "--tune-unplayed",
            action="store_true",
            help="also tune the unplayed tracks' damping on validation with the whole catalog as "
            "candidates (one more whole-catalog training; the result is printed for "
            'RECOMMENDER["predictors"], not applied to the site)',
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    def handle(self, *args: Any, **options: Any) -> None:
        ks: list[int] = sorted(set(options["k"]))
        if any(k < 1 for k in ks):
            raise CommandError("--k values must be at least 1")
        if options["min_tracks"] < 2:
            raise CommandError("--min-tracks must be at least 2 (one to train, one to test)")
        path: Path = options["listens"].expanduser()
        out: Path | None = options["out"]
        if out is not None and out.exists() and not out.is_dir():
            raise CommandError(f"--out {out} exists and is not a folder")
        bars = _Bars(self.stderr._out, not options["no_progress"])
        started = time.perf_counter()

        loaded = evaluation_catalog()
        if loaded.n_tracks == 0:
            raise CommandError("the catalog is empty: import one first (manage.py import_catalog)")
        bars.phase(f"reading {path.name}", 0)
        try:
            listens = listens_match(
                path=path,
                catalog=loaded,
                min_tracks=options["min_tracks"],
                on_row=lambda _: bars.step(),
            )
        except ListensError as error:
            raise CommandError(str(error)) from error
        finally:
            bars.close()
        matching = listens.matching
        self._print_matching(matching.as_dict())
        if listens.n_listeners < 2:
            raise CommandError(
                f"only {listens.n_listeners} listener(s) have at least {options['min_tracks']} "
                "tracks in the catalog: nothing to evaluate"
            )

        grids = tuning.QUICK if options["quick"] else tuning.Grids()
        training, predictor_params, ensemble = recommender_params()
        # implicit runs its own threads; numpy's BLAS stays at one (SETUP-NOTES.md)
        with threadpool_limits(int(os.environ.get("OPENBLAS_NUM_THREADS", "1")), "blas"):
            report = offline.run(
                loaded.catalog,
                loaded.memberships,
                Listens(listens.listener, listens.track, listens.n_listeners),
                ks=ks,
                seed=options["seed"],
                grids=grids,
                training=training,
                predictor_params=predictor_params,
                content_vectors=loaded.content_vectors(),
                ensemble=ensemble,
                whole_catalog=not options["no_whole_catalog"],
                tune_unplayed_damping=options["tune_unplayed"],
                progress=bars,
            )
        bars.close()
        report["data"]["matching"] = matching.as_dict()
        report["data"]["listens"] = str(path)
        report["data"]["seed"] = options["seed"]
        report["data"]["quick"] = bool(options["quick"])
        report["seconds"] = time.perf_counter() - started
        self._print_report(report, ks)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "evaluation.json").write_text(json.dumps(report, indent=2, default=_plain))
            _chart(report, ks, out / "evaluation.png")
            self.stdout.write(f"Wrote {out / 'evaluation.json'} and {out / 'evaluation.png'}")
        self.stdout.write(f"Done in {report['seconds']:.0f} s.")

    def _print_matching(self, m: dict[str, Any]) -> None:
        self.stdout.write(
            f"Listens: {m['playlists']:,} listeners, {m['rows']:,} rows, "
            f"{m['distinct_tracks']:,} distinct tracks.\n"
            f"Matched rows: {m['row_match_rate']:.1%} "
            f"(Spotify id {m['row_match_rate_spotify_id']:.1%}, artist + title "
            f"{m['row_match_rate_name']:.1%}); distinct tracks matched: "
            f"{m['distinct_by_spotify_id']:,} by id, {m['distinct_by_name']:,} by name.\n"
            f"Kept: {m['listeners_kept']:,} listeners with ≥ {m['min_tracks']} matched tracks "
            f"(of {m['listeners_with_a_match']:,} with any), {m['tracks_kept']:,} tracks, "
            f"{m['pairs_kept']:,} listener–track pairs.\n"
            "No demographics in the listens: the demographic predictor is absent here."
        )

    def _print_report(self, report: dict[str, Any], ks: list[int]) -> None:
        models = report["models"]
        for k in ks:
            self.stdout.write(
                f"\nK = {k}\n{'model':<12}{'Recall':>8}{'NDCG':>8}{'cover':>7}{'novel':>7}"
                f"{'div':>6}{'d.aud':>6}{'d.gen':>6}{'Gini':>6}{'fit s':>7}{'ms/lst':>8}"
            )
            rows = [(name, models[name]) for name in MODEL_ORDER if name in models]
            whole = report.get("whole_catalog", {}).get("hybrid")
            if whole is not None:
                rows.append(("hybrid/all", whole))
            for name, m in rows:
                self.stdout.write(
                    f"{name:<12}{m[f'recall@{k}']:8.4f}{m[f'ndcg@{k}']:8.4f}"
                    f"{m[f'coverage@{k}']:7.3f}{m[f'novelty@{k}']:7.2f}"
                    f"{_f(m[f'diversity@{k}'])}{_f(m[f'diversity_audio@{k}'])}"
                    f"{_f(m[f'diversity_genres@{k}'])}{m[f'gini@{k}']:6.3f}"
                    f"{m['train_s']:7.1f}{m['score_ms']:8.2f}"
                )
        k = ks[0]
        self.stdout.write(f"\nCold start (NDCG@{k}; listeners cut to n known tracks)")
        for known, entry in report["cold_start"].items():
            cells = "  ".join(
                f"{name} {entry[name][f'ndcg@{k}']:.4f}" for name in MODEL_ORDER if name in entry
            )
            self.stdout.write(f"  n={known} ({entry['listeners']} listeners): {cells}")
        cold = report["cold_items"]
        self.stdout.write(
            f"\nCold items (Recall@{k} over held-out tracks nobody trained on: {cold['tracks']} "
            f"tracks, {cold['listeners']} listeners)"
        )
        self.stdout.write(
            "  "
            + "  ".join(
                f"{name} {cold[name][f'recall@{k}']:.4f}" for name in MODEL_ORDER if name in cold
            )
        )
        unplayed = [t for t in report["trials"] if t["stage"] == "unplayed"]
        if unplayed:
            self.stdout.write(
                "\nUnplayed damping (validation, whole catalog as candidates: NDCG@10, cold "
                "items Recall@10)"
            )
            for trial in unplayed:
                p = trial["params"]
                self.stdout.write(
                    f"  collaborative {p['collaborative_unplayed']:.2f}  content "
                    f"{p['content_unplayed']:.2f}: {trial['ndcg@10']:.4f}  "
                    f"{p['cold_recall@10']:.4f}"
                )
            chosen = report["tuned"]["predictors"]
            self.stdout.write(
                f"  chosen: collaborative_unplayed {chosen['collaborative_unplayed']}, "
                f"content_unplayed {chosen['content_unplayed']}"
            )
        self.stdout.write("\nTargets (issue #11)")
        for name, check in report["targets"].items():
            detail = ", ".join(
                f"{key} {_fmt(value)}" for key, value in check.items() if key != "met"
            )
            self.stdout.write(f"  {'met ' if check['met'] else 'MISSED'}  {name} ({detail})")


def _f(value: float | None) -> str:
    return f"{value:6.3f}" if value is not None else f"{'-':>6}"


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _chart(report: dict[str, Any], ks: list[int], path: Path) -> None:
    """NDCG and Recall at every K per model, and the cold-start NDCG (a PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    models = [(name, report["models"][name]) for name in MODEL_ORDER if name in report["models"]]
    whole = report.get("whole_catalog", {}).get("hybrid")
    if whole is not None:
        models.append(("hybrid (whole catalog)", whole))
    figure, axes = pyplot.subplots(1, 3, figsize=(15, 4.5))
    width = 0.8 / max(len(models), 1)
    for axis, metric in zip(axes[:2], ("ndcg", "recall"), strict=True):
        for i, (name, m) in enumerate(models):
            axis.bar(
                [j + i * width for j in range(len(ks))],
                [m[f"{metric}@{k}"] for k in ks],
                width,
                label=name,
            )
        axis.set_xticks([j + 0.4 - width / 2 for j in range(len(ks))], [f"@{k}" for k in ks])
        axis.set_title(f"{metric.upper() if metric == 'ndcg' else 'Recall'} (test)")
    axes[0].legend(fontsize=8)
    k = ks[0]
    cuts = list(report["cold_start"])
    for name in MODEL_ORDER:
        if all(name in report["cold_start"][c] for c in cuts):
            axes[2].plot(
                [int(c) for c in cuts],
                [report["cold_start"][c][name][f"ndcg@{k}"] for c in cuts],
                marker="o",
                label=name,
            )
    axes[2].set_title(f"Cold start: NDCG@{k} by known tracks")
    axes[2].set_xlabel("known tracks")
    axes[2].legend(fontsize=8)
    data = report["data"]
    figure.suptitle(
        f"{data['listeners']:,} listeners, {data['tracks']:,} tracks, {data['rows']:,} pairs"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
