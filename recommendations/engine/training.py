"""Training the collaborative models and assembling the predictors: the one code path that the
site's training task, its web processes and the offline evaluation all run.

- :func:`metadata_kinds` turns the catalog's memberships (each track's artists, album, genres)
  into the weighted metadata rows of the training matrix (:mod:`.matrix`);
- :func:`train` fits EASE (dense over the most-played tracks, then kept sparse) and ALS on the
  listeners' rows stacked over those metadata rows;
- :func:`build_predictors` puts the fitted models and the Django side's arrays (trending scores,
  cohort tables) into the registered predictors that :func:`.ensemble.recommend` blends.

Every default of :class:`TrainingParams` / :class:`PredictorParams` is overridden by the site's
``RECOMMENDER`` setting; ``docs/evaluation.md`` records how each value was chosen.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .data import Catalog
from .matrix import MetadataKind, TrainingMatrix, stack_training_matrix
from .models import AlsModel, EaseModel
from .predictors import (
    CohortTable,
    CollaborativePredictor,
    ContentPredictor,
    DemographicPredictor,
    PopularityPredictor,
    Predictor,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: The metadata kinds, in the order their rows are stacked.
METADATA = ("artist", "album", "genre")


@dataclass(frozen=True)
class Memberships:
    """Which group of one metadata kind each track is in: parallel ``track`` / ``group`` index
    arrays (a track may be in several groups: co-credited artists, many genres) and the number
    of groups. Weights are not here: they are training parameters."""

    track: IntArray
    group: IntArray
    n_groups: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "track", np.asarray(self.track, dtype=np.int64))
        object.__setattr__(self, "group", np.asarray(self.group, dtype=np.int64))


@dataclass(frozen=True)
class TrainingParams:
    """What training fits, and how.

    - ``metadata_weights``: the value of an artist / album / genre row at each of its tracks,
      relative to one listener's full play (issue #11's measurement: about 2 / 2.5 / ≤ 1);
      a kind at 0 is left out.
    - ``ease_l2`` (λ), ``ease_max_tracks`` (the dense Gram matrix is tracks², so only the most
      played are modelled), ``ease_neighbours`` (each track's largest weights kept, sparse:
      what a web process holds); ``ease_weight`` 0 skips EASE.
    - ``als_factors`` (the stored vectors' width: ``COLLABORATIVE_DIMENSIONS`` of the models),
      ``als_regularization``, ``als_alpha``, ``als_iterations``; ``als_weight`` 0 skips ALS.
    - ``ease_weight`` / ``als_weight``: the blend of the two inside the collaborative predictor
      (z-scores over each model's top ``pool`` candidates).
    """

    metadata_weights: Mapping[str, float] = field(
        default_factory=lambda: {"artist": 2.0, "album": 2.5, "genre": 0.5}
    )
    ease_l2: float = 100.0
    ease_max_tracks: int | None = 12_000
    ease_neighbours: int | None = 200
    ease_weight: float = 0.5
    als_factors: int = 128
    als_regularization: float = 100.0
    als_alpha: float = 40.0
    als_iterations: int = 30
    als_weight: float = 0.5
    pool: int = 200
    random_state: int = 0

    def replace(self, **changes: object) -> TrainingParams:
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values.update(changes)
        return TrainingParams(**values)


@dataclass
class Trained:
    """Fitted models and what they were fitted on. ``ease`` / ``als`` are None when their
    weight is 0 or there was nothing to learn from. ``seconds``: fit time per model."""

    params: TrainingParams
    training: TrainingMatrix
    ease: EaseModel | None
    als: AlsModel | None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def n_listeners(self) -> int:
        return self.training.n_listeners

    @property
    def n_tracks(self) -> int:
        return self.training.n_tracks


def metadata_kinds(
    memberships: Mapping[str, Memberships], params: TrainingParams
) -> list[MetadataKind]:
    """The weighted metadata kinds of the training matrix, in :data:`METADATA` order; a kind
    without memberships or with weight 0 is left out."""
    kinds = []
    for name in METADATA:
        member = memberships.get(name)
        weight = float(params.metadata_weights.get(name, 0.0))
        if member is None or weight <= 0 or not len(member.track):
            continue
        kinds.append(MetadataKind(name, member.track, member.group, member.n_groups, weight))
    return kinds


def train(
    listeners: sp.spmatrix,
    memberships: Mapping[str, Memberships] | None = None,
    params: TrainingParams | None = None,
) -> Trained:
    """Fit the collaborative models on ``listeners`` (``n_listeners × n_tracks`` confidence
    rows, :func:`.matrix.interaction_matrix`) stacked over the metadata rows."""
    params = params or TrainingParams()
    training = stack_training_matrix(listeners, metadata_kinds(memberships or {}, params))
    seconds: dict[str, float] = {}
    ease = als = None
    has_cells = training.matrix.nnz > 0
    if params.ease_weight > 0 and has_cells:
        started = time.perf_counter()
        ease = EaseModel(l2=params.ease_l2, max_tracks=params.ease_max_tracks).fit(
            training.matrix, count_rows=training.n_listeners
        )
        if params.ease_neighbours is not None:
            ease = ease.sparse(params.ease_neighbours)
        seconds["ease"] = time.perf_counter() - started
    if params.als_weight > 0 and has_cells:
        started = time.perf_counter()
        als = fit_als(training, params)
        seconds["als"] = time.perf_counter() - started
    return Trained(params=params, training=training, ease=ease, als=als, seconds=seconds)


def played_columns(training: TrainingMatrix) -> npt.NDArray[np.bool_]:
    """The tracks some training listener played (a positive cell in a listener row)."""
    listeners = sp.csr_matrix(training.matrix[: training.n_listeners])
    played = np.zeros(training.matrix.shape[1], dtype=bool)
    played[listeners.indices[listeners.data > 0]] = True
    return played


def fit_als(training: TrainingMatrix, params: TrainingParams) -> AlsModel:
    """ALS fitted on the **played** tracks' columns (each with its artist, album and genre
    rows), then every other track **folded in** from its column (its metadata rows, and any
    listener's skip or dislike): what a track added after training gets
    (:meth:`.AlsModel.fold_in_tracks`), so a track nobody has played is represented the same
    way whenever it arrived.

    Why not fit every column: the metadata rows then hold every catalog track (an album row of
    12 tracks where listeners played 2), and ALS learns the played tracks' vectors from rows
    diluted by the unplayed ones. On mpd_subset with the whole 89,740-track catalog as
    candidates the hybrid's NDCG@10 was 0.964 × its figure on the split's tracks when fitted on
    every column, 0.993 × this way (docs/evaluation.md, "Unplayed tracks"), and the fit covers
    a tenth of the columns. A catalog nobody has played yet is fitted whole: metadata is all
    there is."""
    model = AlsModel(
        factors=params.als_factors,
        regularization=params.als_regularization,
        alpha=params.als_alpha,
        iterations=params.als_iterations,
        random_state=params.random_state,
    )
    matrix = sp.csr_matrix(training.matrix)
    played = played_columns(training)
    if not played.any() or played.all():
        return model.fit(matrix)
    fitted = model.fit(sp.csr_matrix(matrix[:, played]))
    others = sp.csr_matrix(matrix[:, ~played].T)  # tracks × rows, the fold-in's shape
    items = np.zeros((matrix.shape[1], fitted.item_factors_.shape[1]), dtype=np.float32)
    items[played] = fitted.item_factors_
    items[~played] = fitted.fold_in_tracks(others)
    return AlsModel(
        factors=model.factors,
        regularization=model.regularization,
        alpha=model.alpha,
        iterations=model.iterations,
        random_state=model.random_state,
        user_factors_=fitted.user_factors_,
        item_factors_=items,
    )


@dataclass(frozen=True)
class PredictorParams:
    """Parameters of the predictors that are not learned by training (see each predictor):
    the content profile's weights, the demographic back-off's minimum cohort size, and what an
    *unplayed* track's collaborative and content scores are multiplied by
    (:func:`.predictors.unplayed_damping`: a track nobody had played when the models were
    trained; 1 = no damping, never 0). The unplayed factors are chosen by
    ``manage.py evaluate_recommender --tune-unplayed`` on the validation split with the whole
    catalog as candidates (docs/evaluation.md, "Unplayed tracks")."""

    content_history_weight: float = 1.0
    content_like_weight: float = 1.0
    content_artist_weight: float = 0.15
    min_cohort_size: int = 20
    collaborative_unplayed: float = 1.0
    content_unplayed: float = 1.0


def build_predictors(
    catalog: Catalog,
    trained: Trained | None = None,
    *,
    trending: npt.ArrayLike | None = None,
    cohort_tables: Sequence[CohortTable] = (),
    content_vectors: npt.NDArray[np.floating[Any]] | None = None,
    params: PredictorParams | None = None,
) -> dict[str, Predictor]:
    """The predictors for one catalog, by registered name. A source without what it needs is
    left out (no trained model, no trending scores, no cohort), and the ensemble renormalises
    over the others."""
    params = params or PredictorParams()
    predictors: dict[str, Predictor] = {}
    has_model = trained is not None and (trained.ease is not None or trained.als is not None)
    if trained is not None and has_model:
        if trained.n_tracks != catalog.n_tracks:
            raise ValueError(
                f"the model knows {trained.n_tracks} tracks, the catalog has {catalog.n_tracks}"
            )
        predictors["collaborative"] = CollaborativePredictor(
            catalog,
            ease=trained.ease,
            als=trained.als,
            weights=(trained.params.ease_weight, trained.params.als_weight),
            pool=trained.params.pool,
            unplayed=params.collaborative_unplayed,
        )
    predictors["content"] = ContentPredictor(
        catalog,
        vectors=content_vectors,
        history_weight=params.content_history_weight,
        like_weight=params.content_like_weight,
        artist_weight=params.content_artist_weight,
        # "unplayed when the models were trained" needs a training: with no model yet, content
        # is the only source of the listener's taste, and nothing is damped
        unplayed=params.content_unplayed if has_model else 1.0,
    )
    if cohort_tables:
        predictors["demographic"] = DemographicPredictor(
            catalog, tables=cohort_tables, min_cohort_size=params.min_cohort_size
        )
    if trending is not None:
        predictors["popularity"] = PopularityPredictor(catalog, trending=trending)
    return predictors
