"""The whole offline evaluation, from matched listens to the report (issue #11, "Offline
evaluation"): what ``manage.py evaluate_recommender`` runs once it has read the data.

1. The listeners × tracks matrix over **the split's tracks** (the tracks some kept listener
   has; the figures are comparable with issue #11's), one cell per (listener, track) at
   confidence 1 (a playlist entry counts as one full play).
2. Test split: a per-listener random 20 % (``seed``); validation carved from its training part
   with a 10 % share, so validation trains on 90 % of what the final models train on
   (:func:`.evaluation.train_validation_test`).
3. Everything tuned on validation (:mod:`.tuning`); each model is then fitted once on the test
   split's training part and measured once on its held-out tracks.
4. The **hybrid** is the site's path: :func:`.training.train` on the metadata-augmented
   matrix, :func:`.training.build_predictors` (collaborative, content, popularity with
   trending = the training data's play counts: the listens have no timestamps for the site's
   time decay, and no demographics, so the demographic predictor is absent), then
   :func:`.ensemble.recommend` per listener (no context, filters, MMR variety).
5. Views: cold-start (listeners cut to 1, 3, 5 tracks), cold items (held-out tracks nobody
   trained on), and the hybrid with **the whole catalog** as candidates.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .data import Catalog, ListenerProfile
from .ensemble import EnsembleParams
from .evaluation import (
    Evaluation,
    Split,
    cold_item_recall,
    cold_start,
    diversity_features,
    engine_recommender,
    evaluate_at,
    exclusion_rows,
    hybrid_lists,
    listener_profile,
    measure,
    model_lists,
    subset_catalog,
    train_validation_test,
)
from .predictors import Predictor
from .training import (
    Memberships,
    PredictorParams,
    Trained,
    TrainingParams,
    build_predictors,
    train,
)
from .tuning import (
    COLD_START_TRACKS,
    Grids,
    Tuned,
    baseline_model,
    fit_calibration,
    tune_baselines,
    tune_ensemble,
    tune_training,
    tune_unplayed,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

BASELINES = ("popularity", "itemknn", "als", "ease")
TEST_SHARE = 0.2
VALIDATION_SHARE = 0.1


class Progress:
    """What the caller shows: ``phase(name, total)`` starts a phase of ``total`` steps (0:
    unknown), ``step(text)`` advances it by one."""

    def phase(self, name: str, total: int) -> None:
        pass

    def step(self, text: str = "") -> None:
        pass


@dataclass(frozen=True)
class Listens:
    """Matched listens in the catalog's track index space: parallel ``listener`` / ``track``."""

    listener: IntArray
    track: IntArray
    n_listeners: int


def _with_play_counts(catalog: Catalog, counts: npt.ArrayLike) -> Catalog:
    return dataclasses.replace(catalog, play_count=np.asarray(counts, dtype=np.int64))


def _column_counts(matrix: sp.csr_matrix) -> IntArray:
    positive = sp.csr_matrix(matrix, copy=True)
    positive.data = (positive.data > 0).astype(np.float32)
    return np.asarray(positive.sum(axis=0)).ravel().astype(np.int64)


def figures(result: Evaluation, prefix: bool = True) -> dict[str, float | None]:
    """One :class:`.evaluation.Evaluation` as report keys (``recall@k`` …)."""
    k = result.k
    values: dict[str, float | None] = {
        f"recall@{k}": result.recall,
        f"ndcg@{k}": result.ndcg,
        f"coverage@{k}": result.coverage,
        f"novelty@{k}": result.novelty,
        f"diversity@{k}": result.diversity,
        f"diversity_audio@{k}": result.diversity_audio,
        f"diversity_genres@{k}": result.diversity_genres,
        f"gini@{k}": result.gini,
    }
    return values


def _row(results: Mapping[int, Evaluation], ks: Sequence[int]) -> dict[str, Any]:
    first = results[ks[0]]
    row: dict[str, Any] = {}
    for k in ks:
        row.update(figures(results[k]))
    # the unsuffixed figures are those of the first K asked (10 by default)
    row.update(
        coverage=first.coverage,
        novelty=first.novelty,
        diversity=first.diversity,
        diversity_audio=first.diversity_audio,
        diversity_genres=first.diversity_genres,
        gini=first.gini,
        train_s=first.fit_seconds,
        score_ms=first.score_ms,
        listeners=first.listeners,
    )
    return row


def _hybrid(
    split: Split,
    catalog: Catalog,
    memberships: Mapping[str, Memberships],
    training: TrainingParams,
    predictor_params: PredictorParams,
    content_vectors: FloatArray | None = None,
    trained: Trained | None = None,
) -> tuple[dict[str, Predictor], Catalog, float, Trained]:
    """Train the site's models on ``split.train`` (unless ``trained`` holds them already) and
    assemble its predictors (with the content vectors the site stores, when given: one row per
    track of ``catalog``)."""
    started = time.perf_counter()
    if trained is None:
        trained = train(split.train, memberships, training)
    counts = _column_counts(split.train)
    played = _with_play_counts(catalog, counts)
    predictors = build_predictors(
        played,
        trained,
        trending=counts.astype(np.float64),
        content_vectors=content_vectors,
        params=predictor_params,
    )
    return predictors, played, time.perf_counter() - started, trained


def _on_catalog(split: Split, tracks: IntArray, n_tracks: int) -> Split:
    """``split`` (over the split's tracks) with the columns of the whole catalog: column ``i``
    becomes ``tracks[i]`` of ``n_tracks``."""
    return Split(
        train=sp.csr_matrix(
            (split.train.data, tracks[split.train.indices], split.train.indptr),
            shape=(split.train.shape[0], n_tracks),
        ),
        held_out=[tracks[h] for h in split.held_out],
    )


def _hybrid_results(
    predictors: Mapping[str, Predictor],
    catalog: Catalog,
    params: EnsembleParams,
    split: Split,
    ks: Sequence[int],
    fit_seconds: float,
    features: Any,
    progress: Progress,
    label: str,
) -> tuple[dict[int, Evaluation], list[IntArray]]:
    users = split.evaluated
    train = sp.csr_matrix(split.train)
    profiles = [listener_profile(train[u]) for u in users]
    progress.phase(label, len(profiles))
    ranked = hybrid_lists(
        engine_recommender(predictors, catalog, params),
        profiles,
        max(ks),
        progress=lambda _: progress.step(),
    )
    held = [split.held_out[u] for u in users]
    results = {
        k: measure(
            ranked.lists,
            held,
            split.train,
            k,
            features=features,
            fit_seconds=fit_seconds,
            score_seconds=ranked.seconds,
        )
        for k in ks
    }
    return results, ranked.lists


def run(
    catalog: Catalog,
    memberships: Mapping[str, Memberships],
    listens: Listens,
    *,
    ks: Sequence[int] = (10, 20, 50),
    seed: int = 0,
    grids: Grids | None = None,
    training: TrainingParams | None = None,
    predictor_params: PredictorParams | None = None,
    ensemble: EnsembleParams | None = None,
    whole_catalog: bool = True,
    tune_unplayed_damping: bool = False,
    progress: Progress | None = None,
    content_vectors: FloatArray | None = None,
) -> dict[str, Any]:
    """The report (see the module docstring); ``training`` / ``predictor_params`` /
    ``ensemble``: the defaults the tuning starts from (the site's settings);
    ``content_vectors``: the catalog's stored content vectors (``EngineCatalog.content_vectors()``,
    what the site's content predictor scores with), one row per catalog track; None computes
    them from the catalog's arrays. ``tune_unplayed_damping``: also tune the unplayed tracks'
    damping (:func:`.tuning.tune_unplayed`) on validation with the whole catalog as candidates
    (one more whole-catalog training: minutes); otherwise ``predictor_params``' values are
    used as they are."""
    progress = progress or Progress()
    grids = grids or Grids()
    predictor_params = predictor_params or PredictorParams()
    ks = sorted(set(ks))
    report: dict[str, Any] = {}

    tracks = np.unique(listens.track)
    position = np.full(catalog.n_tracks, -1, dtype=np.int64)
    position[tracks] = np.arange(len(tracks))
    matrix = sp.csr_matrix(
        (
            np.ones(len(listens.track), dtype=np.float32),
            (listens.listener, position[listens.track]),
        ),
        shape=(listens.n_listeners, len(tracks)),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    sub, sub_memberships = subset_catalog(catalog, memberships, tracks)
    sub_vectors = content_vectors[tracks] if content_vectors is not None else None
    validation, test = train_validation_test(matrix, TEST_SHARE, seed, VALIDATION_SHARE)
    report["data"] = {
        "listeners": int(matrix.shape[0]),
        "tracks": int(matrix.shape[1]),
        "rows": int(matrix.nnz),
        "catalog_tracks": int(catalog.n_tracks),
        "test_cells": int(sum(len(h) for h in test.held_out)),
        "validation_cells": int(sum(len(h) for h in validation.held_out)),
        "evaluated_listeners": len(test.evaluated),
        "demographics": "none: the listens carry no demographics, so the demographic "
        "predictor is absent here (its own tests check it)",
        "trending": "the training data's play counts (the listens have no timestamps for "
        "the site's time decay)",
    }

    # --- tuning on validation ------------------------------------------------------------
    tuned = Tuned(
        training=training or TrainingParams(),
        ensemble=ensemble or EnsembleParams(),
        predictors=predictor_params,
    )
    n_baseline = 1 + len(grids.itemknn_neighbours) + len(grids.ease_l2) + len(grids.als)
    progress.phase("tuning baselines (validation)", n_baseline)
    tune_baselines(validation, grids, tuned, progress=progress.step)
    n_training = (
        len(grids.metadata) + len(grids.hybrid_ease_l2) + len(grids.hybrid_als) + len(grids.blend)
    )
    progress.phase("tuning the hybrid's training (validation)", n_training)
    tune_training(validation, sub_memberships, grids, tuned, tuned.training, progress.step)
    # the models tune_training fitted last are train()'s at the chosen setting: no refit
    predictors, played, _, validation_trained = _hybrid(
        validation,
        sub,
        sub_memberships,
        tuned.training,
        tuned.predictors,
        sub_vectors,
        trained=tuned.trained,
    )
    progress.phase("tuning the ensemble (validation)", 0)
    tune_ensemble(predictors, played, validation, grids, tuned, seed, progress.step)
    if tune_unplayed_damping:
        progress.phase("training on the whole catalog (validation)", 0)
        whole_validation = _on_catalog(validation, tracks, catalog.n_tracks)
        _, whole_played, _, whole_trained = _hybrid(
            whole_validation,
            catalog,
            memberships,
            tuned.training,
            tuned.predictors,
            content_vectors,
        )
        progress.phase("tuning the unplayed damping (validation, whole catalog)", 0)
        tune_unplayed(
            whole_trained,
            whole_played,
            whole_validation,
            grids,
            tuned,
            trending=_column_counts(whole_validation.train).astype(np.float64),
            content_vectors=content_vectors,
            seed=seed,
            progress=progress.step,
        )
        del whole_trained
        predictors, played, _, _ = _hybrid(
            validation,
            sub,
            sub_memberships,
            tuned.training,
            tuned.predictors,
            sub_vectors,
            trained=validation_trained,
        )
    predictor_params = tuned.predictors
    tuned.trained = None
    # calibration: served scores against held-out hits, on validation
    users = validation.evaluated
    rng = np.random.default_rng(seed)
    if len(users) > grids.sample_listeners:
        users = np.sort(rng.choice(users, grids.sample_listeners, replace=False))
    progress.phase("fitting confidence (validation)", len(users))
    validation_train = sp.csr_matrix(validation.train)
    ranked = hybrid_lists(
        engine_recommender(predictors, played, tuned.ensemble),
        [listener_profile(validation_train[u]) for u in users],
        max(ks),
        progress=lambda _: progress.step(),
    )
    calibration = fit_calibration(
        ranked.scores, ranked.lists, [validation.held_out[u] for u in users]
    )
    tuned.ensemble = dataclasses.replace(tuned.ensemble, calibration=calibration)
    del predictors

    # --- test, once ------------------------------------------------------------------------
    features = diversity_features(sub)
    models: dict[str, dict[str, Any]] = {}
    lists_of: dict[str, list[IntArray]] = {}
    fitted: dict[str, Any] = {}
    progress.phase("baselines on test", len(BASELINES))
    users = test.evaluated
    for name in BASELINES:
        model = baseline_model(name, tuned.baselines[name])
        results = evaluate_at(model, test, ks, features=features)
        fitted[name] = model
        models[name] = {**_row(results, ks), "params": tuned.baselines[name]}
        lists_of[name] = model_lists(model, test.train[users], max(ks))
        progress.step(name)

    predictors, played, seconds, _ = _hybrid(
        test, sub, sub_memberships, tuned.training, predictor_params, sub_vectors
    )
    results, hybrid_lists_ = _hybrid_results(
        predictors, played, tuned.ensemble, test, ks, seconds, features, progress, "hybrid on test"
    )
    models["hybrid"] = _row(results, ks)
    lists_of["hybrid"] = hybrid_lists_
    report["models"] = {"hybrid": models.pop("hybrid"), **models}

    # cold items: held-out tracks that no training listener has
    cold = _column_counts(test.train) == 0
    held = [test.held_out[u] for u in users]
    report["cold_items"] = {
        "tracks": int(cold.sum()),
        "held_out_cells": int(sum(int(cold[h].sum()) for h in held)),
        **{
            name: {f"recall@{k}": cold_item_recall(lists, held, cold, k)[0] for k in ks}
            for name, lists in lists_of.items()
        },
    }
    report["cold_items"]["listeners"] = cold_item_recall(lists_of["hybrid"], held, cold, ks[0])[1]

    # cold start: the same fitted models, listeners cut to 1, 3, 5 tracks
    sampled = test.evaluated
    if len(sampled) > grids.sample_listeners:
        sampled = np.sort(rng.choice(sampled, grids.sample_listeners, replace=False))
    in_sample = np.zeros(len(test.held_out), dtype=bool)
    in_sample[sampled] = True
    cold_split = Split(
        train=test.train,
        held_out=[h if in_sample[u] else h[:0] for u, h in enumerate(test.held_out)],
    )
    cuts = {known: cold_start(cold_split, known, seed) for known in COLD_START_TRACKS}
    progress.phase("cold-start view", sum(c.rows.shape[0] for c in cuts.values()))
    cold_report: dict[str, Any] = {}
    hybrid_run = engine_recommender(predictors, played, tuned.ensemble)
    for known, cut in cuts.items():
        entry: dict[str, Any] = {"listeners": int(cut.rows.shape[0])}
        for name in BASELINES:
            lists = model_lists(
                fitted[name], cut.rows, max(ks), exclude=exclusion_rows(cut.rows, cut.exclude)
            )
            entry[name] = {f"ndcg@{k}": _mean_ndcg(lists, cut.held_out, k) for k in ks}
            entry[name].update({f"recall@{k}": _mean_recall(lists, cut.held_out, k) for k in ks})
        profiles = [listener_profile(cut.rows[i]) for i in range(cut.rows.shape[0])]
        ranked = hybrid_lists(
            hybrid_run, profiles, max(ks), exclude=cut.exclude, progress=lambda _: progress.step()
        )
        entry["hybrid"] = {f"ndcg@{k}": _mean_ndcg(ranked.lists, cut.held_out, k) for k in ks}
        entry["hybrid"].update(
            {f"recall@{k}": _mean_recall(ranked.lists, cut.held_out, k) for k in ks}
        )
        cold_report[str(known)] = entry
    report["cold_start"] = cold_report
    del predictors, fitted

    # --- the hybrid with the whole catalog as candidates ------------------------------------
    if whole_catalog:
        whole_split = _on_catalog(test, tracks, catalog.n_tracks)
        progress.phase("training on the whole catalog", 0)
        predictors, played, seconds, _ = _hybrid(
            whole_split, catalog, memberships, tuned.training, predictor_params, content_vectors
        )
        whole_features = diversity_features(catalog)
        results, _ = _hybrid_results(
            predictors,
            played,
            tuned.ensemble,
            whole_split,
            ks,
            seconds,
            whole_features,
            progress,
            "hybrid, whole catalog",
        )
        report["whole_catalog"] = {"hybrid": _row(results, ks)}

    report["tuned"] = {
        "training": _jsonable(dataclasses.asdict(tuned.training)),
        "ensemble": _jsonable(dataclasses.asdict(tuned.ensemble)),
        "predictors": _jsonable(dataclasses.asdict(tuned.predictors)),
        "baselines": tuned.baselines,
    }
    report["trials"] = [trial.as_dict() for trial in tuned.trials]
    report["targets"] = targets(report)
    return report


def _mean_ndcg(lists: Sequence[IntArray], held: Sequence[IntArray], k: int) -> float:
    from .metrics import ndcg_at_k

    values = [ndcg_at_k(r, h, k) for r, h in zip(lists, held, strict=True)]
    return float(np.mean(values)) if values else 0.0


def _mean_recall(lists: Sequence[IntArray], held: Sequence[IntArray], k: int) -> float:
    from .metrics import recall_at_k

    values = [recall_at_k(r, h, k) for r, h in zip(lists, held, strict=True)]
    return float(np.mean(values)) if values else 0.0


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def targets(report: Mapping[str, Any]) -> dict[str, Any]:
    """Issue #11's targets, each with the figures it compares and whether it is met."""
    models = report["models"]
    hybrid = models["hybrid"]
    ndcg = hybrid.get("ndcg@10")
    checks: dict[str, Any] = {}
    if ndcg is None:
        return checks
    ease = models["ease"]["ndcg@10"]
    best_baseline = max(models[name]["ndcg@10"] for name in BASELINES)
    checks["ndcg@10 >= 1.15 x ease"] = {
        "ratio": ndcg / ease if ease else None,
        "met": bool(ndcg >= 1.15 * ease),
    }
    checks["ndcg@10 >= every baseline"] = {
        "best_baseline": best_baseline,
        "met": ndcg >= best_baseline,
    }
    checks["coverage >= ease"] = {
        "hybrid": hybrid["coverage"],
        "ease": models["ease"]["coverage"],
        "met": hybrid["coverage"] >= models["ease"]["coverage"],
    }
    checks["gini < als"] = {
        "hybrid": hybrid["gini"],
        "als": models["als"]["gini"],
        "met": hybrid["gini"] < models["als"]["gini"],
    }
    whole = report.get("whole_catalog", {}).get("hybrid")
    if whole is not None:
        checks["whole catalog ndcg@10 >= 0.97 x split"] = {
            "ratio": whole["ndcg@10"] / ndcg if ndcg else None,
            "met": whole["ndcg@10"] >= 0.97 * ndcg,
        }
    return checks


def listener_profiles(rows: sp.csr_matrix) -> list[ListenerProfile]:
    rows = sp.csr_matrix(rows)
    return [listener_profile(rows[i]) for i in range(rows.shape[0])]


Step = Callable[[str], None]
