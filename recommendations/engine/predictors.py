"""The predictors: small named classes in a registry (a new one is one class and its tests).

Each is built once per model version with the arrays it needs (the Django side loads them) and
answers :meth:`Predictor.predict` for one listener: up to ``n`` candidate tracks, best first,
with scores in [0, 1] and :class:`Evidence` for the reasons. It never proposes a track the
listener already has an opinion of (history, liked, disliked); the other filters are the
ensemble's (:mod:`.ranking`). When it cannot answer for this listener (no vectors yet, an
empty view, nothing known about the listener) it raises :class:`PredictorUnavailable`; the
ensemble then renormalises over the others, as it does for any other exception.

What each score means:

- ``collaborative``: the logistic of the listener's blended z-score (EASE and ALS, z-scored over
  each model's top candidates): 0.5 is an average top candidate, 0.73 one standard deviation
  above it.
- ``content``: ``(1 - artist_weight) * (1 + cos) / 2 + artist_weight * artist_share``: cosine
  of the track's content vector with the listener's profile, plus the share of the profile
  made of the track's artist.
- ``demographic``: the track's count in the listener's cohort over the cohort's top count.
- ``popularity``: the track's trending count over the top count among the eligible tracks.

Collaborative and content scores of a track nobody had played when the models were trained are
multiplied by the predictor's ``unplayed`` factor (:func:`unplayed_damping`; 1: none).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .content import content_vectors, describe, standardised_features, unit_rows
from .data import Catalog, ListenerProfile
from .models import AlsModel, EaseModel, blend_zscores

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class PredictorUnavailable(Exception):
    """The predictor has nothing to say for this listener (not an error: no vectors yet, an
    empty view, no history or demographics)."""


@dataclass(frozen=True)
class Evidence:
    """What a predictor knows about why it proposes one track (the ensemble makes reasons).

    - ``because_track``: the listener's track that contributes most (-1: none);
    - ``descriptor``: a word for that track's sound ("energetic"), see
      :func:`.content.describe`;
    - ``new``: nobody had played the track when the models were trained;
    - ``cohort``: ``(field, value)`` pairs of the demographic cohort that plays it;
    - ``genre``: the preferred genre a trending track was picked for (-1: overall).
    """

    because_track: int = -1
    descriptor: str | None = None
    new: bool = False
    cohort: tuple[tuple[str, str], ...] = ()
    genre: int = -1


class Prediction:
    """Candidates of one predictor, best first: parallel ``tracks`` and ``scores`` (in [0, 1]),
    and their :class:`Evidence`.

    Evidence is given either at once (``evidence``, one per track) or on demand (``explain``:
    a function from some of the tracks to their evidence). A predictor proposes hundreds of
    candidates of which a handful make the list, so the built-in ones explain on demand:
    :meth:`evidence_for` asks only for the tracks that are served; :attr:`evidence` (all of
    them, computed once) is there for tests and tools."""

    __slots__ = ("_evidence", "_explain", "scores", "tracks")

    def __init__(
        self,
        tracks: npt.ArrayLike,
        scores: npt.ArrayLike,
        evidence: Sequence[Evidence] | None = None,
        *,
        explain: Callable[[IntArray], Sequence[Evidence]] | None = None,
    ) -> None:
        self.tracks: IntArray = np.asarray(tracks, dtype=np.int64)
        self.scores: FloatArray = np.asarray(scores, dtype=np.float64)
        if len(self.tracks) != len(self.scores):
            raise ValueError("tracks and scores need one value per candidate")
        if (evidence is None) == (explain is None):
            raise ValueError("give either the evidence or a function that explains")
        if evidence is not None and len(evidence) != len(self.tracks):
            raise ValueError("tracks, scores and evidence need one value per candidate")
        self._evidence: tuple[Evidence, ...] | None = None if evidence is None else tuple(evidence)
        self._explain = explain

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """The evidence of every candidate (computed on first use when explained on demand)."""
        if self._evidence is None:
            assert self._explain is not None
            self._evidence = tuple(self._explain(self.tracks))
        return self._evidence

    def evidence_for(self, tracks: npt.ArrayLike) -> list[Evidence]:
        """The evidence of some of the candidates (``tracks``, in that order; a track this
        prediction does not hold gets an empty :class:`Evidence`)."""
        wanted = np.asarray(tracks, dtype=np.int64)
        held = np.isin(wanted, self.tracks)
        found: list[Evidence] = [Evidence()] * len(wanted)
        if not held.any():
            return found
        if self._evidence is None and self._explain is not None:
            explained = list(self._explain(wanted[held]))
        else:
            position = {int(t): i for i, t in enumerate(self.tracks)}
            explained = [self.evidence[position[int(t)]] for t in wanted[held]]
        for at, evidence in zip(np.flatnonzero(held), explained, strict=True):
            found[int(at)] = evidence
        return found

    @classmethod
    def empty(cls) -> Prediction:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0), ())


class Predictor(ABC):
    """One source of candidates. ``name`` is set by :func:`register`."""

    name: ClassVar[str] = ""

    @abstractmethod
    def predict(
        self, profile: ListenerProfile, n: int, candidates: IntArray | None = None
    ) -> Prediction:
        """Up to ``n`` candidates for ``profile``, best first. ``candidates`` restricts them to
        a pool (pgvector's nearest neighbours of the listener, say); None: the whole catalog."""


#: The registry: name → predictor class. The ensemble weighs sources by these names.
PREDICTORS: dict[str, type[Predictor]] = {}


def register(name: str) -> Callable[[type[Predictor]], type[Predictor]]:
    """Class decorator adding a predictor under ``name``; a second class under the same name is
    refused (it would silently replace the first)."""

    def add(cls: type[Predictor]) -> type[Predictor]:
        if name in PREDICTORS and PREDICTORS[name] is not cls:
            raise ValueError(f"a predictor named {name!r} is already registered")
        cls.name = name
        PREDICTORS[name] = cls
        return cls

    return add


def _eligible(n_tracks: int, profile: ListenerProfile, candidates: IntArray | None) -> FloatArray:
    """0 where a track may be proposed, -inf elsewhere (outside the pool, already known)."""
    mask = np.zeros(n_tracks)
    if candidates is not None:
        mask[:] = -np.inf
        mask[np.asarray(candidates, dtype=np.int64)] = 0.0
    mask[profile.known_tracks()] = -np.inf
    return mask


def unplayed_damping(catalog: Catalog, unplayed: float) -> FloatArray:
    """Per track, what its score is multiplied by: ``unplayed`` for a track nobody had played
    when the models were trained (``catalog.play_count`` 0), 1 for the others. Such a track's
    collaborative vector comes from its metadata alone (or a fold-in), and its content vector
    says how it sounds, not whether anyone wants it: at the same raw score, a played track is
    the better bet (docs/evaluation.md, "Unplayed tracks"). ``unplayed`` is in (0, 1], never 0,
    so a new track stays recommendable; in a catalog nobody has played yet there is nothing to
    prefer and nothing is damped."""
    if not 0 < unplayed <= 1:
        raise ValueError("the unplayed factor must be in (0, 1]")
    damping = np.ones(catalog.n_tracks)
    if unplayed < 1 and catalog.play_count.any():
        damping[catalog.play_count == 0] = unplayed
    return damping


def _best(scores: FloatArray, n: int) -> IntArray:
    """Indices of the ``n`` best finite scores, best first (ties: lower index first)."""
    finite = np.flatnonzero(np.isfinite(scores))
    if 0 < n < len(finite):
        # the n best by partition first (linear), then only those are sorted; a tie at the
        # n-th place is settled by the partition, not by index
        finite = finite[np.argpartition(-scores[finite], n - 1)[:n]]
    order = np.lexsort((finite, -scores[finite]))
    return finite[order[:n]].astype(np.int64)


@register("collaborative")
class CollaborativePredictor(Predictor):
    """EASE and ALS trained on the metadata-augmented matrix (:mod:`.matrix`), blended on the
    listener's z-scores over each model's top ``pool`` candidates.

    - ``ease``, ``als``: fitted models (either may be None: not trained yet, or EASE not worth
      it; with neither the predictor is unavailable). A track outside EASE's most-played set
      is scored by ALS alone (its EASE z is EASE's lowest in the pool).
    - ``weights`` (EASE, ALS): (0.5, 0.5), seeds; issue #11's best blend was tuned on
      validation, this one is not yet.
    - ``pool`` (200): candidates per model for the z-scores (seed).
    - ``unplayed`` (1.0): what an unplayed track's score is multiplied by
      (:func:`unplayed_damping`; ``RECOMMENDER["predictors"]["collaborative_unplayed"]``).

    The listener is folded in from :meth:`.ListenerProfile.row`; with no positive cell the
    predictor is unavailable. Evidence: ``because_track`` is the listened track contributing
    most to EASE's score, or, outside EASE, the one whose ALS vector is closest.
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        ease: EaseModel | None = None,
        als: AlsModel | None = None,
        weights: tuple[float, float] = (0.5, 0.5),
        pool: int = 200,
        unplayed: float = 1.0,
    ) -> None:
        self.catalog = catalog
        self.ease = ease
        self.als = als
        self.weights = weights
        self.pool = pool
        self.damping = unplayed_damping(catalog, unplayed)

    def predict(
        self, profile: ListenerProfile, n: int, candidates: IntArray | None = None
    ) -> Prediction:
        models = [
            (model, weight)
            for model, weight in ((self.ease, self.weights[0]), (self.als, self.weights[1]))
            if model is not None and weight > 0
        ]
        if not models:
            raise PredictorUnavailable("no collaborative model trained yet")
        row = profile.row(self.catalog.n_tracks)
        if not (row.data > 0).any():
            raise PredictorUnavailable("nothing to fold the listener in from")
        mask = _eligible(self.catalog.n_tracks, profile, candidates)
        mask[row.indices] = -np.inf
        per_model = [np.asarray(model.score(row))[0] + mask for model, _ in models]
        blended = blend_zscores(
            [scores[None, :] for scores in per_model], [w for _, w in models], self.pool
        )[0] / sum(w for _, w in models)
        # the logistic of the z-blend, an unplayed track's scaled by ``unplayed`` (-inf stays)
        finite = np.isfinite(blended)
        damped = np.full(len(blended), -np.inf)
        damped[finite] = self.damping[finite] / (1.0 + np.exp(-blended[finite]))
        best = _best(damped, n)
        return Prediction(best, damped[best], explain=lambda tracks: self._evidence(row, tracks))

    def _evidence(self, row: sp.csr_matrix, tracks: IntArray) -> list[Evidence]:
        because = self._because(row, tracks)
        unplayed = self.catalog.play_count[tracks] == 0
        return [
            Evidence(because_track=int(source), new=bool(new))
            for source, new in zip(because, unplayed, strict=True)
        ]

    def _because(self, row: sp.csr_matrix, targets: IntArray) -> IntArray:
        """The listened track behind each target (-1: none found)."""
        because = np.full(len(targets), -1, dtype=np.int64)
        positive = row.indices[row.data > 0]
        if self.ease is not None and len(self.ease.tracks_):
            sources, parts = self.ease.contributions(row, targets)
            if len(sources):
                has = parts.max(axis=1) > 0
                because[has] = sources[parts[has].argmax(axis=1)]
        missing = because < 0
        if self.als is not None and missing.any() and len(positive):
            factors = self.als.item_factors_
            similarity = unit_rows(factors[targets[missing]]) @ unit_rows(factors[positive]).T
            because[missing] = positive[similarity.argmax(axis=1)]
        return because


@register("content")
class ContentPredictor(Predictor):
    """Tracks that sound like the listener's: the cosine of each track's content vector
    (:func:`.content.content_vectors`) with the listener's profile, the weighted mean of the
    vectors of their history (``history_weight``, 1.0) and liked tracks (``like_weight``, 1.0;
    a liked history track counts both), plus a same-artist term (``artist_weight``, 0.15: the
    share of the profile's weight on the track's artist). All three are seeds. It needs no play
    at all, so it covers tracks nobody has played and listeners with a handful of tracks; such
    a track's score is multiplied by ``unplayed`` (1.0; :func:`unplayed_damping`,
    ``RECOMMENDER["predictors"]["content_unplayed"]``).

    ``vectors`` defaults to :func:`.content.content_vectors` of the catalog. Evidence: the
    profile track closest to the candidate and a word for its sound; ``new`` for an unplayed
    track.
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        vectors: npt.NDArray[np.floating[Any]] | None = None,
        history_weight: float = 1.0,
        like_weight: float = 1.0,
        artist_weight: float = 0.15,
        unplayed: float = 1.0,
    ) -> None:
        self.catalog = catalog
        self.damping = unplayed_damping(catalog, unplayed)
        # float32: half the memory and time of a 90k-track matrix-vector product, and
        # cosines to 7 digits are plenty for a ranking
        self.unit = unit_rows(
            content_vectors(catalog) if vectors is None else vectors, dtype=np.float32
        )
        self.standardised = standardised_features(catalog.features)
        self._has_artist = catalog.artist >= 0
        self._artist_index = np.maximum(catalog.artist, 0)
        self._n_artists = int(max(catalog.artist.max(initial=-1), 0)) + 1
        self.history_weight = history_weight
        self.like_weight = like_weight
        self.artist_weight = artist_weight

    def predict(
        self, profile: ListenerProfile, n: int, candidates: IntArray | None = None
    ) -> Prediction:
        tracks = np.concatenate([profile.history, profile.liked])
        weights = np.concatenate(
            [
                np.full(len(profile.history), self.history_weight),
                np.full(len(profile.liked), self.like_weight),
            ]
        )
        if not len(tracks) or weights.sum() <= 0:
            raise PredictorUnavailable("no history or liked tracks")
        centre = (self.unit[tracks] * weights[:, None]).sum(axis=0) / weights.sum()
        length = np.linalg.norm(centre)
        cosine = (
            (self.unit @ (centre / length).astype(np.float32)).astype(np.float64)
            if length > 0
            else np.zeros(len(self.unit))
        )
        artists = self.catalog.artist[tracks]
        share = np.zeros(self._n_artists)
        known = artists >= 0
        np.add.at(share, artists[known], weights[known] / weights.sum())
        track_share = share[self._artist_index] * self._has_artist
        scores = (1 - self.artist_weight) * (1 + cosine) / 2 + self.artist_weight * track_share
        scores = scores * self.damping + _eligible(self.catalog.n_tracks, profile, candidates)
        best = _best(scores, n)
        return Prediction(
            best,
            np.clip(scores[best], 0.0, 1.0),
            explain=lambda candidates: self._evidence(tracks, candidates),
        )

    def _evidence(self, profile_tracks: IntArray, candidates: IntArray) -> list[Evidence]:
        nearest = profile_tracks[
            (self.unit[candidates] @ self.unit[profile_tracks].T).argmax(axis=1)
        ]
        # one word per distinct profile track (a handful), not per candidate
        words = {int(s): describe(self.standardised[s]) for s in np.unique(nearest)}
        unplayed = self.catalog.play_count[candidates] == 0
        return [
            Evidence(because_track=int(source), descriptor=words[int(source)], new=bool(new))
            for source, new in zip(nearest, unplayed, strict=True)
        ]


@dataclass(frozen=True)
class CohortTable:
    """Per-cohort track counts for one level of the demographic back-off.

    ``fields``: the demographic fields of the level (e.g. ``("age_band", "country")``);
    ``keys[c]``: cohort ``c``'s values in that order; ``members[c]``: its listener count;
    ``counts``: ``n_cohorts × n_tracks`` CSR, the cohort's plays and likes per track (weighted
    as the Django view computes them, e.g. the confidence weights of :mod:`.matrix`)."""

    fields: tuple[str, ...]
    keys: Sequence[tuple[str, ...]]
    members: IntArray
    counts: sp.csr_matrix
    index: Mapping[tuple[str, ...], int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", np.asarray(self.members, dtype=np.int64))
        object.__setattr__(self, "counts", sp.csr_matrix(self.counts, dtype=np.float64))
        if not len(self.keys) == len(self.members) == self.counts.shape[0]:
            raise ValueError("keys, members and counts need one entry per cohort")
        object.__setattr__(self, "index", {tuple(k): i for i, k in enumerate(self.keys)})


@register("demographic")
class DemographicPredictor(Predictor):
    """What listeners like this one play and like: the finest cohort that the listener's
    demographics name and that has at least ``min_cohort_size`` members (20, a seed: below it
    a cohort's favourites are a couple of people's taste, and would say what those few play).

    ``tables`` are the levels, finest first; the usual ones are age band + country + gender +
    occupation, then age band + country, then age band (issue #11). A level whose fields the
    listener has not all given is skipped. With no level left the predictor is unavailable.
    Evidence: the cohort's ``(field, value)`` pairs.
    """

    def __init__(
        self, catalog: Catalog, *, tables: Sequence[CohortTable], min_cohort_size: int = 20
    ) -> None:
        self.catalog = catalog
        self.tables = tables
        self.min_cohort_size = min_cohort_size

    def cohort(self, profile: ListenerProfile) -> tuple[CohortTable, int] | None:
        """The table and row of the finest large-enough cohort, or None."""
        for table in self.tables:
            values = [profile.demographics.get(name) for name in table.fields]
            if any(value is None for value in values):
                continue
            row = table.index.get(tuple(str(value) for value in values))
            if row is None or table.members[row] < self.min_cohort_size:
                continue
            if table.counts[row].nnz:
                return table, row
        return None

    def predict(
        self, profile: ListenerProfile, n: int, candidates: IntArray | None = None
    ) -> Prediction:
        found = self.cohort(profile)
        if found is None:
            raise PredictorUnavailable("no cohort large enough for this listener")
        table, row = found
        counts = np.asarray(table.counts[row].toarray()).ravel()
        scores = np.where(counts > 0, counts, -np.inf)
        scores = scores + _eligible(self.catalog.n_tracks, profile, candidates)
        best = _best(scores, n)
        if not len(best):
            return Prediction.empty()
        cohort = tuple(zip(table.fields, table.keys[row], strict=True))
        return Prediction(
            best,
            scores[best] / scores[best].max(),
            explain=lambda tracks: [Evidence(cohort=cohort)] * len(tracks),
        )


@register("popularity")
class PopularityPredictor(Predictor):
    """Trending tracks: ``trending`` per track (time-decayed plays and likes,
    :func:`.models.decayed_popularity` or the Django materialized view), restricted to tracks
    in the listener's preferred genres when they have some and any of them trends (otherwise
    overall). Unavailable when nothing trends (an empty view). Evidence: the preferred genre a
    track was picked for.
    """

    def __init__(self, catalog: Catalog, *, trending: npt.ArrayLike) -> None:
        self.catalog = catalog
        self.trending = np.asarray(trending, dtype=np.float64)
        if len(self.trending) != catalog.n_tracks:
            raise ValueError("trending needs one value per track")

    def predict(
        self, profile: ListenerProfile, n: int, candidates: IntArray | None = None
    ) -> Prediction:
        base = np.where(self.trending > 0, self.trending, -np.inf)
        base = base + _eligible(self.catalog.n_tracks, profile, candidates)
        genre_of = np.full(self.catalog.n_tracks, -1, dtype=np.int64)
        preferred = np.asarray(profile.preferred_genres, dtype=np.int64)
        scores = base
        if len(preferred):
            membership = self.catalog.genres[:, preferred].toarray() > 0
            in_preferred = membership.any(axis=1)
            restricted = np.where(in_preferred, base, -np.inf)
            if np.isfinite(restricted).any():
                scores = restricted
                genre_of[in_preferred] = preferred[membership[in_preferred].argmax(axis=1)]
        best = _best(scores, n)
        if not len(best):
            raise PredictorUnavailable("nothing trends")
        return Prediction(
            best,
            scores[best] / scores[best].max(),
            explain=lambda tracks: [Evidence(genre=int(genre)) for genre in genre_of[tracks]],
        )


def registered() -> Mapping[str, type[Predictor]]:
    """The registry, read-only."""
    return dict(PREDICTORS)
