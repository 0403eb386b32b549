"""The ensemble: weigh the predictors by what is known about the listener, blend their
candidates, filter, re-rank for the context, keep variety, and say why.

:func:`recommend` runs it all for one listener. The parts are separate functions so that each
rule is tested on its own: :func:`source_weights`, :func:`blend`, :class:`Calibration`,
:func:`reasons_for` / :func:`reason_text`, and :mod:`.ranking`.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .data import Catalog, ListenerProfile
from .predictors import Evidence, Prediction, Predictor, PredictorUnavailable
from .ranking import (
    ARTIST_LIMIT,
    ARTIST_PRIOR,
    ARTIST_WINDOW,
    apply_filters,
    artist_allowance,
    context_match,
    diversify,
    novelty,
    rerank_for_context,
    rerank_for_discovery,
)

logger = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SOURCES = ("collaborative", "content", "demographic", "popularity")

#: The sources that score a track by its closeness to the listener's history (discovery's
#: "far from the history" reads them).
HISTORY_SOURCES = ("collaborative", "content")


# --- what is known → how much each source weighs ---------------------------------------------


@dataclass(frozen=True)
class Known:
    """What the weight calculator reads: ``tracks``, the distinct tracks with a positive signal
    (history, likes, plays); ``demographics``, how many of age band, country, gender and
    occupation are given (0–4)."""

    tracks: int = 0
    demographics: int = 0

    @classmethod
    def of(cls, profile: ListenerProfile, n_tracks: int) -> Known:
        return cls(
            tracks=len(profile.positive_tracks(n_tracks)),
            demographics=profile.demographics.known,
        )


@dataclass(frozen=True)
class WeightParams:
    """Parameters of :func:`source_weights`, tuned on the mpd_subset validation split by
    ``manage.py evaluate_recommender`` (docs/evaluation.md: coordinate descent over small grids,
    objective = mean of the NDCG@10 of full validation listeners and of the same listeners cut
    to 1, 3 and 5 tracks). The listens have no demographics, so ``demographic`` is not tuned.

    - ``history_scale`` (1; grid 1 / 3 / 10): tracks at which the listener's "maturity"
      ``m = 1 - e^(-t/scale)`` reaches 63 %: collaborative beats popularity from the very first
      track (cold-start view: one known track already gives ALS/EASE 3–4× popularity's NDCG).
    - ``collaborative`` (1.0, the reference), ``content`` (0.05; grid 0.05 / 0.15 / 0.3, kept
      ≥ 0.05 on purpose: its job is tracks nobody has played, which NDCG on played tracks cannot
      reward; every step up cost validation NDCG), ``demographic`` (0.8, seed),
      ``popularity`` (0.1; grid 0.1 / 0.3 / 1.0): each source's weight at full strength.
    - ``popularity_floor`` (0.05; grid 0 / 0.02 / 0.05): popularity's weight that never goes
      away (a little of what is trending now keeps even a long-time listener's list fresh).
    """

    history_scale: float = 1.0
    collaborative: float = 1.0
    content: float = 0.05
    demographic: float = 0.8
    popularity: float = 0.1
    popularity_floor: float = 0.05


def source_weights(known: Known, params: WeightParams | None = None) -> dict[str, float]:
    """Each source's weight (summing to 1) from what is known. With ``m`` the maturity above and
    ``d = demographics / 4``:

    - collaborative ``∝ m`` (needs a history to fold in);
    - content ``∝ √m`` (rises faster: it works from the first tracks, which is its job);
    - demographic ``∝ d · (1 - m)`` (stands in while the history is thin);
    - popularity ``∝ (1 - m) + floor``.

    So nothing known → popularity alone; demographics only → demographic and popularity; a
    full history → collaborative leads (with the tuned values content and popularity's floor
    are small, equal voices: on mpd_subset any more content cost accuracy).
    """
    p = params or WeightParams()
    maturity = 1.0 - math.exp(-max(known.tracks, 0) / p.history_scale)
    demographics = min(max(known.demographics, 0), 4) / 4
    raw = {
        "collaborative": p.collaborative * maturity,
        "content": p.content * math.sqrt(maturity),
        "demographic": p.demographic * demographics * (1.0 - maturity),
        "popularity": p.popularity * (1.0 - maturity) + p.popularity_floor,
    }
    total = sum(raw.values())
    return {name: value / total for name, value in raw.items()}


# --- the blend --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Blend:
    """Candidates of all sources together: ``tracks`` (ascending); ``scores`` (the weighted
    mean of the sources' scores, a source that did not propose a track counting 0 for it);
    ``sources`` (name → each track's score from that source); ``weights`` (renormalised over
    the sources that answered); ``predictions`` (name → the source's :class:`Prediction`, which
    explains its tracks on demand: :meth:`explain` asks for the served ones only)."""

    tracks: IntArray
    scores: FloatArray
    sources: dict[str, FloatArray]
    weights: dict[str, float]
    predictions: dict[str, Prediction] = field(default_factory=dict)
    #: name → track → evidence, filled by :meth:`explain`
    evidence: dict[str, dict[int, Evidence]] = field(default_factory=dict)

    def explain(self, tracks: npt.ArrayLike) -> None:
        """Ask every source for the evidence of those of ``tracks`` it proposed, at once."""
        wanted = np.asarray(tracks, dtype=np.int64)
        for name, prediction in self.predictions.items():
            mine = wanted[np.isin(wanted, prediction.tracks)]
            known = self.evidence.setdefault(name, {})
            missing = np.array([t for t in mine.tolist() if t not in known], dtype=np.int64)
            if len(missing):
                known.update(zip(missing.tolist(), prediction.evidence_for(missing), strict=True))

    def evidence_of(self, name: str, track: int) -> Evidence:
        """The evidence of one source for one track (empty when it did not propose it)."""
        if track not in self.evidence.get(name, {}):
            self.explain([track])
        return self.evidence.get(name, {}).get(track, Evidence())


def blend(predictions: Mapping[str, Prediction], weights: Mapping[str, float]) -> Blend:
    """Blend the sources that answered (non-empty, positive weight), renormalising the weights
    over them: a source that failed or had nothing simply is not in ``predictions``."""
    answered = {
        name: prediction
        for name, prediction in predictions.items()
        if len(prediction.tracks) and weights.get(name, 0.0) > 0
    }
    total = sum(weights[name] for name in answered)
    if not answered:
        return Blend(np.zeros(0, dtype=np.int64), np.zeros(0), {}, {})
    used = {name: weights[name] / total for name in answered}
    tracks = np.unique(np.concatenate([p.tracks for p in answered.values()]))
    sources = {}
    for name, prediction in answered.items():
        column = np.zeros(len(tracks))
        column[np.searchsorted(tracks, prediction.tracks)] = prediction.scores
        sources[name] = column
    scores = sum((used[name] * sources[name] for name in answered), np.zeros(len(tracks)))
    return Blend(tracks, np.asarray(scores), sources, used, dict(answered))


# --- confidence -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """A monotone map from the final score to ``confidence`` in [0, 1]: piecewise linear through
    ``(knots[i], values[i])``, flat outside.

    How it is meant to be fitted (:meth:`fit`): on the validation split, every served track's
    final score against whether the listener went on to play it (it was in their held-out
    tracks); isotonic regression (pool-adjacent-violators) makes the map monotone, so a higher
    score never means a lower confidence, and confidence then reads as "the share of tracks
    served at this score that the listener played". A monotone fitted map was chosen over "the
    share of sources agreeing" because agreement is high exactly for obvious popular tracks and
    says nothing about whether a source is right.

    Until it is fitted on real data (the evaluation of the whole ensemble is not run yet), the
    default is the identity: confidence is the final score itself, the weighted mean of the
    sources' [0, 1] scores (plus the context match), which is monotone but not a probability.
    """

    knots: tuple[float, ...] = (0.0, 1.0)
    values: tuple[float, ...] = (0.0, 1.0)

    def __post_init__(self) -> None:
        if len(self.knots) != len(self.values) or not self.knots:
            raise ValueError("one value per knot, and at least one knot")
        if any(b < a for a, b in itertools.pairwise(self.knots)):
            raise ValueError("knots must be ascending")
        if any(b < a for a, b in itertools.pairwise(self.values)):
            raise ValueError("values must not decrease")

    def __call__(self, scores: npt.ArrayLike) -> FloatArray:
        mapped = np.interp(np.asarray(scores, dtype=np.float64), self.knots, self.values)
        return np.clip(mapped, 0.0, 1.0)

    @classmethod
    def fit(cls, scores: npt.ArrayLike, outcomes: npt.ArrayLike) -> Calibration:
        """Isotonic regression of ``outcomes`` (1 played, 0 not) on ``scores``: equal scores
        are one group (their mean outcome); adjacent groups are pooled until their mean
        outcomes rise; each block becomes a knot at its mean score (strictly ascending)."""
        x = np.asarray(scores, dtype=np.float64)
        y = np.asarray(outcomes, dtype=np.float64)
        if len(x) != len(y) or not len(x):
            raise ValueError("one outcome per score, and at least one")
        distinct, group = np.unique(x, return_inverse=True)
        sums = np.bincount(group, weights=y)
        counts = np.bincount(group).astype(np.float64)
        blocks: list[list[float]] = []  # [sum of outcomes, sum of scores, count]
        for score, total, count in zip(distinct, sums, counts, strict=True):
            blocks.append([float(total), float(score * count), float(count)])
            while (
                len(blocks) > 1 and blocks[-2][0] / blocks[-2][2] >= blocks[-1][0] / blocks[-1][2]
            ):
                last = blocks.pop()
                blocks[-1] = [a + b for a, b in zip(blocks[-1], last, strict=True)]
        knots = tuple(float(b[1] / b[2]) for b in blocks)
        values = tuple(float(b[0] / b[2]) for b in blocks)
        return cls(knots=knots, values=values)


# --- reasons ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """One reason, structured (the page or app words it; :func:`reason_text` is the default).

    ``kind``:

    - ``"listened_artist"`` (collaborative): ``artist`` of the listener's ``track`` behind it;
    - ``"similar_listeners"`` (collaborative, when no listened track stands out);
    - ``"sounds_like"`` (content): close to the listener's ``track``, ``descriptor`` a word for
      its sound or None; ``new`` when nobody has played the recommended track yet;
    - ``"cohort"`` (demographic): ``cohort`` the ``(field, value)`` pairs;
    - ``"trending_genre"`` (popularity, for a preferred ``genre``) or ``"trending"``;
    - ``"context"``: matches the listener's ``context`` (``"exercise"``, ``"happy"`` …);
      ``context_kind`` is ``"activity"`` or ``"mood"``.

    ``source`` is the predictor (or ``"context"``) the reason comes from.
    """

    kind: str
    source: str
    track: int = -1
    artist: int = -1
    genre: int = -1
    descriptor: str | None = None
    new: bool = False
    cohort: tuple[tuple[str, str], ...] = ()
    context: str | None = None
    context_kind: str | None = None


#: A source gives a reason when its weighted share of the track's blended score is at least
#: this (seed); the largest source always does.
REASON_SHARE = 0.25

#: The context gives a reason when its match is at least this (seed: clearly above neutral 0.5).
CONTEXT_REASON_MATCH = 0.65


def _source_reason(name: str, evidence: Evidence, catalog: Catalog) -> Reason:
    if name == "collaborative":
        if evidence.because_track >= 0 and catalog.artist[evidence.because_track] >= 0:
            return Reason(
                kind="listened_artist",
                source=name,
                track=evidence.because_track,
                artist=int(catalog.artist[evidence.because_track]),
            )
        return Reason(kind="similar_listeners", source=name)
    if name == "content":
        return Reason(
            kind="sounds_like",
            source=name,
            track=evidence.because_track,
            descriptor=evidence.descriptor,
            new=evidence.new,
        )
    if name == "demographic":
        return Reason(kind="cohort", source=name, cohort=evidence.cohort)
    if name == "popularity":
        if evidence.genre >= 0:
            return Reason(kind="trending_genre", source=name, genre=evidence.genre)
        return Reason(kind="trending", source=name)
    return Reason(kind=name, source=name, track=evidence.because_track)


def reasons_for(
    track: int,
    blended: Blend,
    catalog: Catalog,
    context: tuple[str, str, float] | None = None,
) -> list[Reason]:
    """The reasons of one blended track, strongest source first: every source whose weighted
    score is at least :data:`REASON_SHARE` of the total (always the largest), then the context
    (``(name, "activity" | "mood", match)``) when its match reaches
    :data:`CONTEXT_REASON_MATCH`. A source that did not score the track never gives one."""
    row = int(np.searchsorted(blended.tracks, track))
    parts = {
        name: blended.weights[name] * scores[row]
        for name, scores in blended.sources.items()
        if scores[row] > 0
    }
    total = sum(parts.values())
    reasons = []
    for rank, (name, part) in enumerate(sorted(parts.items(), key=lambda kv: -kv[1])):
        if rank == 0 or part >= REASON_SHARE * total:
            reasons.append(_source_reason(name, blended.evidence_of(name, track), catalog))
    if context is not None and context[2] >= CONTEXT_REASON_MATCH:
        reasons.append(
            Reason(kind="context", source="context", context=context[0], context_kind=context[1])
        )
    return reasons


_GENDER_WORDS = {"M": "male", "F": "female", "NB": "non-binary"}


def reason_text(reason: Reason, catalog: Catalog) -> str:
    """A sentence a person can read. Names come from ``catalog.artist_names`` and
    ``genre_names`` (an index without a name falls back to a generic sentence)."""

    def name_of(names: Sequence[str], index: int) -> str | None:
        return names[index] if 0 <= index < len(names) else None

    if reason.kind == "listened_artist":
        artist = name_of(catalog.artist_names, reason.artist)
        return f"Because you listen to {artist}" if artist else "Because of what you listen to"
    if reason.kind == "similar_listeners":
        return "Listeners with your taste play it"
    if reason.kind == "sounds_like":
        tracks = f"your {reason.descriptor} tracks" if reason.descriptor else "your tracks"
        return f"New to listeners here, close to {tracks}" if reason.new else f"Close to {tracks}"
    if reason.kind == "cohort":
        return "Popular with " + _cohort_words(dict(reason.cohort))
    if reason.kind == "trending_genre":
        genre = name_of(catalog.genre_names, reason.genre)
        return f"Trending in {genre}" if genre else "Trending in a genre you like"
    if reason.kind == "trending":
        return "Trending now"
    if reason.kind == "context":
        return f"Matches your {reason.context} {reason.context_kind or 'context'}"
    return "Recommended for you"


def _cohort_words(cohort: Mapping[str, str]) -> str:
    """``{"age_band": "18–24", "country": "DE"}`` → "listeners aged 18–24 in DE"."""
    words = []
    if cohort.get("gender") in _GENDER_WORDS:
        words.append(_GENDER_WORDS[cohort["gender"]])
    if cohort.get("occupation"):
        words.append(str(cohort["occupation"]))
    words.append("listeners")
    if cohort.get("age_band"):
        words.append(f"aged {cohort['age_band']}")
    if cohort.get("country"):
        words.append(f"in {cohort['country']}")
    return " ".join(words)


# --- everything for one listener --------------------------------------------------------------


@dataclass(frozen=True)
class Recommendation:
    """One result: ``track``; ``score`` (final, in [0, 1]); ``confidence`` (in [0, 1], see
    :class:`Calibration`); ``sources`` (each answering source's score for it, 0 when it did
    not propose it); ``reasons``."""

    track: int
    score: float
    confidence: float
    sources: dict[str, float]
    reasons: list[Reason]


@dataclass(frozen=True)
class EnsembleParams:
    """- ``weights``: :class:`WeightParams` of the weight calculator;
    - ``pool`` (100, seed): candidates asked of each predictor, at least ``10 × n``, so the
      filters and the variety rules have enough to choose from;
    - ``context_strength`` (0.3): :func:`.ranking.rerank_for_context`;
    - ``max_run`` (3, issue #11) and ``relevance`` (0.97, tuned on validation, grid 0.8 /
      0.9 / 0.97: 0.8 cost 9 % of validation NDCG@10; genre balance still acts at 0.97):
      :func:`.ranking.diversify`;
    - ``artist_limit`` (2) and ``artist_window`` (10): at most that many tracks of one artist in
      any that many consecutive places (:func:`.ranking.diversify`; None: no limit), more for
      an artist the listener's own tracks give more (``artist_prior`` 5:
      :func:`.ranking.artist_allowance`);
    - ``calibration``: :class:`Calibration` (identity until fitted; the site's is fitted on
      validation: ``RECOMMENDER["ensemble"]["calibration"]``)."""

    weights: WeightParams = field(default_factory=WeightParams)
    pool: int = 100
    context_strength: float = 0.3
    max_run: int = 3
    relevance: float = 0.97
    artist_limit: int | None = ARTIST_LIMIT
    artist_window: int = ARTIST_WINDOW
    artist_prior: float | None = ARTIST_PRIOR
    calibration: Calibration = field(default_factory=Calibration)


@dataclass(frozen=True)
class Recommendations:
    """The list, the source weights used (renormalised over the sources that answered), the
    sources that were unavailable for this listener (name → why) and those that failed
    (name → the error; logged as a warning too), and what each filter dropped."""

    items: list[Recommendation]
    weights: dict[str, float]
    unavailable: dict[str, str]
    failed: dict[str, str]
    dropped: dict[str, IntArray]


def recommend(
    profile: ListenerProfile,
    predictors: Mapping[str, Predictor],
    catalog: Catalog,
    n: int = 5,
    params: EnsembleParams | None = None,
    candidates: npt.ArrayLike | None = None,
) -> Recommendations:
    """Up to ``n`` recommendations for one listener (see the module docstring for the steps).
    ``candidates`` (engine indices) restricts every predictor to that pool (the results of a
    search, say: the one that fits the listener best); None: the whole catalog.

    A predictor that raises never fails the request: :class:`PredictorUnavailable` is noted in
    ``unavailable``, anything else in ``failed`` and logged; the blend renormalises over the
    sources that answered."""
    params = params or EnsembleParams()
    weights = source_weights(Known.of(profile, catalog.n_tracks), params.weights)
    pool = max(params.pool, 10 * n)
    pool_of = None if candidates is None else np.unique(np.asarray(candidates, dtype=np.int64))
    predictions: dict[str, Prediction] = {}
    unavailable: dict[str, str] = {}
    failed: dict[str, str] = {}
    for name, predictor in predictors.items():
        if weights.get(name, 0.0) <= 0:
            continue
        try:
            predictions[name] = predictor.predict(profile, pool, pool_of)
        except PredictorUnavailable as reason:
            unavailable[name] = str(reason)
        except Exception as error:
            failed[name] = f"{type(error).__name__}: {error}"
            logger.warning("predictor %s failed; blending without it", name, exc_info=True)
    blended = blend(predictions, weights)
    kept, dropped = apply_filters(blended.tracks, profile, catalog)
    rows = np.searchsorted(blended.tracks, kept)
    match = context_match(catalog, kept, profile.mood, profile.activity)
    final = rerank_for_context(blended.scores[rows], match, params.context_strength)
    ranked = final
    if profile.discovery != 0.5:
        history_sources = [
            blended.sources[name][rows] for name in HISTORY_SOURCES if name in blended.sources
        ]
        closeness = np.max(history_sources, axis=0) if history_sources else np.zeros(len(kept))
        ranked = rerank_for_discovery(
            final, novelty(catalog, kept, profile, closeness), profile.discovery
        )
    chosen = diversify(
        kept,
        ranked,
        catalog,
        n,
        max_run=params.max_run,
        relevance=params.relevance,
        artist_limit=params.artist_limit,
        artist_window=params.artist_window,
        artist_allowance=(
            artist_allowance(
                profile,
                catalog,
                limit=params.artist_limit,
                window=params.artist_window,
                prior=params.artist_prior,
            )
            if params.artist_limit is not None and params.artist_prior is not None
            else None
        ),
    )
    position = {int(t): i for i, t in enumerate(kept)}
    confidence = params.calibration(final)
    # each context on its own, for the reason: the activity's match and the mood's
    per_context = [
        (name, kind, values)
        for name, kind, values in (
            (profile.activity, "activity", context_match(catalog, kept, None, profile.activity)),
            (profile.mood, "mood", context_match(catalog, kept, profile.mood, None)),
        )
        if name is not None and values is not None
    ]
    blended.explain(chosen)  # the evidence of the served tracks only, each source at once
    items = []
    for track in chosen:
        i = position[int(track)]
        best_context = max(
            ((str(name), kind, float(values[i])) for name, kind, values in per_context),
            key=lambda context: context[2],
            default=None,
        )
        items.append(
            Recommendation(
                track=int(track),
                score=float(final[i]),
                confidence=float(confidence[i]),
                sources={name: float(s[rows[i]]) for name, s in blended.sources.items()},
                reasons=reasons_for(int(track), blended, catalog, best_context),
            )
        )
    return Recommendations(items, blended.weights, unavailable, failed, dropped)
