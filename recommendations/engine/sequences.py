"""Sequences of tracks made to be played in order: a radio, a mood or activity mix, a sonic path.

Plain numpy, in the engine's index spaces (tracks ``0 .. n - 1``). Every function takes an
``allowed`` mask (what the listener may be given: no disliked track, no track of a disliked
genre or of a blocked artist, nothing excluded; :func:`allowed_tracks` builds it) and a numpy
``Generator``: the same generator state gives the same sequence. What the engine cannot fill
from allowed tracks it leaves out: a sequence may come back shorter than asked, never padded.

- :func:`radio`: a walk from a seed. Each next track is chosen near an *anchor*, the weighted
  mean of the seed (its pull decaying step by step) and the last few tracks picked, in the two
  similarity spaces the serving state has (content vectors, collaborative vectors), blended
  with the listener's taste when it is known. So the radio starts at the seed and drifts away
  from it gradually. Never one artist more than :data:`RADIO_MAX_RUN` (2) times in a row, never
  a track twice.
- :func:`mood_mix`: tracks whose audio features fit a mood and/or activity (the context rules of
  :mod:`.ranking`, the same ones the recommendations' re-rank applies), scored with the
  listener's taste and a popularity prior, made varied by :func:`.ranking.diversify`.
- :func:`sonic_path`: from one track to another through the audio-feature space. The targets are
  evenly spaced on the segment between the two tracks' standardised features; each step picks
  the unused allowed track that is close to its target *and* to the previous track (and, lightly,
  to the listener's taste). Plexamp's "Sonic Adventure" builds its paths in a learned "sonic"
  space; here the space is the catalog's standardised audio features, which every track has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .data import Catalog
from .ranking import context_match, diversify

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: The radio's hard artist rule: never more than this many tracks of one artist in a row.
RADIO_MAX_RUN = 2


# --- what the listener may be given -----------------------------------------------------------


def allowed_tracks(
    catalog: Catalog,
    *,
    disliked: npt.ArrayLike = (),
    disliked_genres: npt.ArrayLike = (),
    blocked_artists: npt.ArrayLike = (),
    credits: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    excluded: npt.ArrayLike = (),
) -> BoolArray:
    """Per track, whether a generated sequence may hold it: not ``disliked``, in none of the
    ``disliked_genres``, by none of the ``blocked_artists`` and not ``excluded``. ``credits``
    (parallel track and artist index arrays: every credited artist, not only the first) makes a
    co-credited blocked artist count too; without it the first artist (``catalog.artist``)
    decides."""
    allowed = np.ones(catalog.n_tracks, dtype=bool)
    allowed[np.asarray(disliked, dtype=np.int64)] = False
    allowed[np.asarray(excluded, dtype=np.int64)] = False
    genres = np.asarray(disliked_genres, dtype=np.int64)
    if len(genres):
        members = sp.csr_matrix(catalog.genres)[:, genres]
        allowed &= np.asarray((members != 0).sum(axis=1)).ravel() == 0
    blocked = np.asarray(blocked_artists, dtype=np.int64)
    if len(blocked):
        allowed &= ~np.isin(catalog.artist, blocked) | (catalog.artist < 0)
        if credits is not None:
            tracks = np.asarray(credits[0], dtype=np.int64)
            artists = np.asarray(credits[1], dtype=np.int64)
            allowed[tracks[np.isin(artists, blocked)]] = False
    return allowed


# --- the similarity spaces --------------------------------------------------------------------


@dataclass(frozen=True)
class Space:
    """One similarity space: a vector per track (zero rows: unknown there). Cosines are computed
    as ``vectors @ v * inverse_norms``, so the vectors are never copied (the collaborative ones
    are the serving state's own ALS factors, ~46 MB at catalog scale)."""

    vectors: npt.NDArray[np.floating]
    inverse_norms: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        norms = np.linalg.norm(np.asarray(self.vectors, dtype=np.float32), axis=1)
        inverse = np.divide(1.0, norms, out=np.zeros(len(norms)), where=norms > 0)
        object.__setattr__(self, "inverse_norms", inverse.astype(np.float64))

    @property
    def known(self) -> BoolArray:
        known: BoolArray = self.inverse_norms > 0
        return known

    def unit(self, tracks: IntArray) -> FloatArray:
        """The tracks' vectors scaled to length 1 (zero for unknown ones)."""
        rows = np.asarray(self.vectors[tracks], dtype=np.float64)
        unit: FloatArray = rows * self.inverse_norms[tracks][:, None]
        return unit

    def cosine(self, direction: FloatArray, tracks: IntArray | None = None) -> FloatArray:
        """The cosine of each track (all, or ``tracks``) with ``direction`` (0 where unknown or
        when the direction is zero)."""
        length = float(np.linalg.norm(direction))
        if length == 0:
            return np.zeros(len(self.vectors) if tracks is None else len(tracks))
        rows = self.vectors if tracks is None else self.vectors[tracks]
        scale = self.inverse_norms if tracks is None else self.inverse_norms[tracks]
        product = np.asarray(rows @ (direction / length).astype(rows.dtype), dtype=np.float64)
        cosine: FloatArray = product * scale
        return cosine


@dataclass(frozen=True)
class Similarity:
    """The spaces a radio walks in: ``content`` (every track has a content vector) and, once a
    model is trained, ``collaborative`` (tracks the same listeners play), weighed
    ``collaborative_weight`` where both tracks have a collaborative vector (content alone
    elsewhere)."""

    content: Space
    collaborative: Space | None = None
    collaborative_weight: float = 0.5

    def anchor(self, tracks: IntArray, weights: FloatArray) -> list[FloatArray]:
        """The weighted mean of the tracks' unit vectors in each space."""
        w = np.asarray(weights, dtype=np.float64)[:, None]
        out = [(self.content.unit(tracks) * w).sum(axis=0)]
        if self.collaborative is not None:
            out.append((self.collaborative.unit(tracks) * w).sum(axis=0))
        return out

    def score(self, anchor: Sequence[FloatArray], tracks: IntArray | None = None) -> FloatArray:
        """How near each track is to the anchor: the cosine in content, blended with the
        collaborative one where the track has a vector there and the anchor is not zero."""
        content = self.content.cosine(anchor[0], tracks)
        if self.collaborative is None or len(anchor) < 2 or not np.any(anchor[1]):
            return content
        collaborative = self.collaborative.cosine(anchor[1], tracks)
        known = self.collaborative.known if tracks is None else self.collaborative.known[tracks]
        w = self.collaborative_weight
        blended: FloatArray = np.where(known, (1 - w) * content + w * collaborative, content)
        return blended


@dataclass(frozen=True)
class Taste:
    """The listener's taste as a direction in each space (the mean of their history's and liked
    tracks' unit vectors; the collaborative one their folded-in vector), or None when unknown.
    :meth:`score` is in [0, 1]: 0.5 is neutral."""

    content: FloatArray | None = None
    collaborative: FloatArray | None = None

    @property
    def known(self) -> bool:
        return self.content is not None or self.collaborative is not None

    def score(self, similarity: Similarity, tracks: IntArray) -> FloatArray:
        parts = []
        if self.content is not None:
            parts.append(similarity.content.cosine(self.content, tracks))
        if self.collaborative is not None and similarity.collaborative is not None:
            parts.append(similarity.collaborative.cosine(self.collaborative, tracks))
        if not parts:
            return np.full(len(tracks), 0.5)
        mean: FloatArray = (1.0 + np.mean(parts, axis=0)) / 2.0
        return mean


# --- the artist rule --------------------------------------------------------------------------


def _run_artist(artists: IntArray, picked: Sequence[int], max_run: int) -> int:
    """The artist the next pick may not have (their last ``max_run`` picks), or -1."""
    if len(picked) < max_run:
        return -1
    last = artists[np.asarray(picked[-max_run:], dtype=np.int64)]
    return int(last[0]) if last[0] >= 0 and (last == last[0]).all() else -1


def max_artist_run(artists: npt.ArrayLike) -> int:
    """The longest run of one artist in a sequence of artist indices (-1, unknown, is never a
    run)."""
    longest = run = 0
    previous = None
    for artist in np.asarray(artists, dtype=np.int64).tolist():
        run = run + 1 if artist == previous and artist >= 0 else 1
        previous = artist
        longest = max(longest, run)
    return longest


def _choose(values: FloatArray, rng: np.random.Generator, choices: int, spread: float) -> int:
    """Among the ``choices`` highest finite ``values``, one drawn with probability
    ``∝ exp((value - best) / spread)``: the generator varies the sequence, while a clearly
    better track still nearly always wins. Returns -1 when no value is finite."""
    finite = np.flatnonzero(np.isfinite(values))
    if not len(finite):
        return -1
    k = min(choices, len(finite))
    top = finite[np.argpartition(-values[finite], k - 1)[:k]]
    top = top[np.lexsort((top, -values[top]))]
    if k == 1 or spread <= 0:
        return int(top[0])
    weights = np.exp((values[top] - values[top[0]]) / spread)
    return int(top[rng.choice(k, p=weights / weights.sum())])


# --- radio ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RadioParams:
    """How a radio walks (seeds, not tuned; ``RECOMMENDER["playlists"]["radio"]``):

    - ``seed_pull`` (1.0) and ``seed_decay`` (0.85): the seed's weight in the anchor at step
      ``i`` is ``seed_pull * seed_decay ** i`` (after 10 tracks a fifth, after 20 a twentieth);
    - ``memory`` (3): the last tracks picked that make the rest of the anchor, the latest
      weighing most (weights 1, 1/2, 1/3 …);
    - ``taste_weight`` (0.2): how much the listener's taste counts against nearness;
    - ``pool`` (20 per track asked, at least 1,000): candidates near the seed; ``expand_every``
      (8) and ``expand`` (300): every few steps, the tracks nearest the current anchor in
      content join the pool (one product over the catalog's content vectors), so the walk can
      leave the seed's neighbourhood;
    - ``choices`` (3) and ``spread`` (0.02): each pick is drawn from the best few (see
      :func:`_choose`), which is what the seed varies."""

    seed_pull: float = 1.0
    seed_decay: float = 0.85
    memory: int = 3
    taste_weight: float = 0.2
    pool_per_track: int = 20
    pool_min: int = 1000
    expand_every: int = 8
    expand: int = 300
    choices: int = 3
    spread: float = 0.02
    max_run: int = RADIO_MAX_RUN


def _top(scores: FloatArray, allowed: BoolArray, k: int) -> IntArray:
    candidates = np.flatnonzero(allowed & np.isfinite(scores))
    if len(candidates) > k:
        candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
    return np.sort(candidates).astype(np.int64)


class _Pool:
    """The radio's candidates with their unit vectors gathered once (each step is then a few
    products over the pool, not a gather of the catalog's rows). Nearness to an anchor is
    linear in the anchor's parts (the seed's vectors, each recent track's), so the pool's dot
    with each part is computed once — for a picked track when it is picked — and a step only
    weighs those columns and divides by the anchor's length."""

    def __init__(self, similarity: Similarity, taste: Taste | None) -> None:
        self.similarity = similarity
        self.taste_of = taste
        self.tracks = np.zeros(0, dtype=np.int64)
        self.member = np.zeros(len(similarity.content.vectors), dtype=bool)
        spaces = [similarity.content]
        if similarity.collaborative is not None:
            spaces.append(similarity.collaborative)
        self.spaces = spaces
        self._rows = [np.zeros((0, space.vectors.shape[1]), dtype=np.float32) for space in spaces]
        self.units = list(self._rows)
        self.known = np.zeros(0, dtype=bool)
        self.taste: FloatArray | None = None if taste is None else np.zeros(0)
        #: part → its anchor vectors per space and the pool's dots with them
        self.parts: dict[int, tuple[list[FloatArray], list[FloatArray]]] = {}

    def grow(self, tracks: IntArray) -> None:
        tracks = np.asarray(tracks, dtype=np.int64)
        if not len(tracks):
            return
        self.member[tracks] = True
        self.tracks = np.concatenate([self.tracks, tracks])
        new_units = [space.unit(tracks).astype(np.float32) for space in self.spaces]
        size = len(self.tracks)
        if size > len(self._rows[0]):  # room for this and later growth: no copy per step
            self._rows = [
                np.concatenate(
                    [
                        rows,
                        np.zeros(
                            (max(size, 2 * len(rows)) - len(rows), rows.shape[1]), dtype=np.float32
                        ),
                    ]
                )
                for rows in self._rows
            ]
        for rows, new in zip(self._rows, new_units, strict=True):
            rows[size - len(tracks) : size] = new
        self.units = [rows[:size] for rows in self._rows]
        if len(self.spaces) > 1:
            self.known = np.concatenate([self.known, self.spaces[1].known[tracks]])
        if self.taste is not None and self.taste_of is not None:
            self.taste = np.concatenate([self.taste, self.taste_of.score(self.similarity, tracks)])
        for vectors, dots in self.parts.values():
            for i, (unit, vector) in enumerate(zip(new_units, vectors, strict=True)):
                dots[i] = np.concatenate([dots[i], unit @ vector.astype(np.float32)])

    def track_column(self, part: int, vectors: Sequence[FloatArray]) -> None:
        """Keep the pool's dots with ``vectors`` (one per space) under ``part``."""
        vectors = list(vectors)
        dots = [
            np.asarray(unit @ np.asarray(vector, dtype=np.float32), dtype=np.float64)
            for unit, vector in zip(self.units, vectors, strict=True)
        ]
        self.parts[part] = (vectors, dots)

    def nearness(self, weighted: Sequence[tuple[int, float]]) -> FloatArray:
        """The pool's nearness to the anchor ``Σ weight × part`` (a part is -1, the seed, or a
        picked track), as :meth:`Similarity.score` computes it."""
        for part, _ in weighted:
            if part not in self.parts:
                at = np.asarray([part], dtype=np.int64)
                self.track_column(part, [space.unit(at)[0] for space in self.spaces])
        cosines: list[FloatArray | None] = []
        for i in range(len(self.spaces)):
            anchor = sum(
                (weight * self.parts[part][0][i] for part, weight in weighted),
                np.zeros(self.units[i].shape[1]),
            )
            length = float(np.linalg.norm(anchor))
            if length == 0:
                cosines.append(None)
                continue
            dot = sum(
                (weight * self.parts[part][1][i] for part, weight in weighted),
                np.zeros(len(self.tracks)),
            )
            cosines.append(dot / length)
        content = cosines[0] if cosines[0] is not None else np.zeros(len(self.tracks))
        if len(cosines) < 2 or cosines[1] is None:
            return content
        w = self.similarity.collaborative_weight
        blended: FloatArray = np.where(self.known, (1 - w) * content + w * cosines[1], content)
        return blended


def radio(
    seeds: npt.ArrayLike,
    length: int,
    *,
    catalog: Catalog,
    similarity: Similarity,
    allowed: BoolArray,
    rng: np.random.Generator,
    taste: Taste | None = None,
    first: int | None = None,
    seed_weights: npt.ArrayLike | None = None,
    params: RadioParams | None = None,
) -> IntArray:
    """Up to ``length`` tracks: ``first`` (when given and allowed: the seed track, or an artist
    radio's opening track), then a walk from the ``seeds`` (engine indices; weighted by
    ``seed_weights``) as the module docstring says. Seeds not allowed still pull; they are not
    played."""
    p = params or RadioParams()
    seeds = np.asarray(seeds, dtype=np.int64)
    if not len(seeds) or length <= 0:
        return np.zeros(0, dtype=np.int64)
    weights = (
        np.ones(len(seeds)) if seed_weights is None else np.asarray(seed_weights, dtype=np.float64)
    )
    weights = weights / weights.sum()
    seed_anchor = similarity.anchor(seeds, weights)
    available = np.asarray(allowed, dtype=bool).copy()
    picked: list[int] = []
    if first is not None and available[first]:
        picked.append(int(first))
        available[first] = False

    pool = _Pool(similarity, taste if taste is not None and taste.known else None)
    pool.grow(
        _top(similarity.score(seed_anchor), available, max(p.pool_min, p.pool_per_track * length))
    )
    pool.track_column(-1, seed_anchor)

    step = 0
    while len(picked) < length:
        recent = picked[-p.memory :]
        pull = p.seed_pull * p.seed_decay**step
        recency = 1.0 / np.arange(1, len(recent) + 1)[::-1]
        if step and step % p.expand_every == 0:
            anchor = [part * pull for part in seed_anchor]
            if recent:
                recent_anchor = similarity.anchor(np.asarray(recent, dtype=np.int64), recency)
                anchor = [a + b for a, b in zip(anchor, recent_anchor, strict=True)]
            # who joins is decided in content alone (41 dimensions, a third of the cost of the
            # collaborative ones over the catalog); inside the pool both spaces count
            nearness = similarity.content.cosine(anchor[0])
            pool.grow(_top(nearness, available & ~pool.member, p.expand))
        open_ = available[pool.tracks]
        if not open_.any():
            break
        values = pool.nearness([(-1, pull), *zip(recent, recency.tolist(), strict=True)])
        if pool.taste is not None:
            values = (1 - p.taste_weight) * values + p.taste_weight * (2 * pool.taste - 1)
        values = np.where(open_, values, -np.inf)
        banned = _run_artist(catalog.artist, picked, p.max_run)
        if banned >= 0:
            values = np.where(catalog.artist[pool.tracks] == banned, -np.inf, values)
        choice = _choose(values, rng, p.choices, p.spread)
        if choice < 0:
            break
        track = int(pool.tracks[choice])
        picked.append(track)
        available[track] = False
        step += 1
    return np.asarray(picked, dtype=np.int64)


# --- mood / activity mix ----------------------------------------------------------------------


@dataclass(frozen=True)
class MixParams:
    """How a mood or activity mix scores (seeds; ``RECOMMENDER["playlists"]["mix"]``): the
    context match weighs ``fit_weight`` (0.6), the listener's taste ``taste_weight`` (0.25; its
    share goes to popularity for a listener without taste), the popularity prior
    ``popularity_weight`` (0.15), plus up to ``jitter`` (0.05) from the generator; the best
    ``pool_per_track`` (20) per track asked go to :func:`.ranking.diversify` (MMR over genres,
    ``relevance`` 0.85, no more than ``max_run`` of an artist in a row)."""

    fit_weight: float = 0.6
    taste_weight: float = 0.25
    popularity_weight: float = 0.15
    jitter: float = 0.05
    pool_per_track: int = 20
    relevance: float = 0.85
    max_run: int = RADIO_MAX_RUN


def mood_mix(
    length: int,
    *,
    catalog: Catalog,
    mood: str | None,
    activity: str | None,
    allowed: BoolArray,
    rng: np.random.Generator,
    popularity: npt.ArrayLike | None = None,
    similarity: Similarity | None = None,
    taste: Taste | None = None,
    params: MixParams | None = None,
) -> IntArray:
    """Up to ``length`` allowed tracks that fit ``mood`` and/or ``activity`` (names of
    :data:`.ranking.CONTEXT_RULES`; an unknown one is a ``ValueError``), best and varied first.
    ``popularity`` in [0, 1] per track (the serving state's prior)."""
    p = params or MixParams()
    tracks = np.flatnonzero(np.asarray(allowed, dtype=bool)).astype(np.int64)
    if not len(tracks) or length <= 0:
        return np.zeros(0, dtype=np.int64)
    match = context_match(catalog, tracks, mood, activity)
    fit = np.full(len(tracks), 0.5) if match is None else match
    prior = (
        np.zeros(len(tracks))
        if popularity is None
        else np.clip(np.asarray(popularity, dtype=np.float64)[tracks], 0.0, 1.0)
    )
    # a first cut on fit and popularity alone, so taste is computed for a pool, not the catalog
    rough = p.fit_weight * fit + (p.popularity_weight + p.taste_weight) * prior
    pool = _top(rough, np.ones(len(tracks), dtype=bool), max(10 * p.pool_per_track * length, 2000))
    candidates = tracks[pool]
    known = taste is not None and taste.known and similarity is not None
    if known:
        assert taste is not None and similarity is not None
        liking = taste.score(similarity, candidates)
        scores = (
            p.fit_weight * fit[pool] + p.taste_weight * liking + p.popularity_weight * prior[pool]
        )
    else:
        scores = p.fit_weight * fit[pool] + (p.popularity_weight + p.taste_weight) * prior[pool]
    scores = scores + p.jitter * rng.random(len(pool))
    best = _top(scores, np.ones(len(pool), dtype=bool), p.pool_per_track * length)
    return diversify(
        candidates[best],
        scores[best],
        catalog,
        length,
        max_run=p.max_run,
        relevance=p.relevance,
    )


# --- the sonic path ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PathParams:
    """How a sonic path steps (seeds; ``RECOMMENDER["playlists"]["path"]``):

    - ``target_weight`` (1.0) and ``previous_weight`` (0.5): the squared distance to the step's
      target and to the previous track, in standardised feature units;
    - ``taste_weight`` (0.3): what ``1 - taste`` (in [0, 1]) adds, lightly, as a share of the
      step's best distance cost;
    - ``monotone`` (True): a step never goes *back* along the start → end direction (its
      projection on it is at least the previous track's) nor more than one step ahead of its
      target (never past the end) while any open track does so:
      the features keep moving towards the end instead of wavering around the line (with 9
      features and a step of a twentieth of the way, the nearest track to a target is often
      behind the previous one);
    - ``tube`` (60 per step, at least 3,000): the candidates are, for each step of the
      segment between the two ends, the 60 tracks nearest the segment around it (then the
      nearest overall up to 3,000), so each step scores a few thousand tracks, not the catalog,
      and the sparse ends of the segment still have candidates;
    - ``choices`` (3) and ``spread`` (0.1): each pick is drawn from the best few by cost
      relative to the step's best (see :func:`_choose`), which is what the seed varies;
    - ``max_run`` (2): the radio's artist rule holds here too."""

    target_weight: float = 1.0
    previous_weight: float = 0.5
    taste_weight: float = 0.3
    monotone: bool = True
    tube_per_track: int = 60
    tube_min: int = 3000
    choices: int = 3
    spread: float = 0.1
    max_run: int = RADIO_MAX_RUN


def _tube(
    s: FloatArray, distance: FloatArray, available: BoolArray, length: int, p: PathParams
) -> IntArray:
    """The path's candidates: per step of the segment (the tracks whose nearest point on it is
    nearest that step's target), the ``tube_per_track`` nearest the segment, and then the
    nearest overall up to ``tube_min``. Per step, so that the sparse ends of the segment (two
    unusual tracks have few neighbours) still have candidates ahead."""
    candidates = np.flatnonzero(available)
    if not len(candidates):
        return candidates.astype(np.int64)
    bins = np.rint(s[candidates] * (length - 1)).astype(np.int64)
    order = np.lexsort((candidates, distance[candidates], bins))
    sorted_bins = bins[order]
    first = np.searchsorted(sorted_bins, sorted_bins, side="left")
    rank = np.arange(len(order)) - first
    chosen = np.zeros(len(available), dtype=bool)
    chosen[candidates[order[rank < p.tube_per_track]]] = True
    if chosen.sum() < p.tube_min:
        chosen[_top(-distance, available, p.tube_min)] = True
    return np.flatnonzero(chosen).astype(np.int64)


def path_targets(start: FloatArray, end: FloatArray, length: int) -> FloatArray:
    """``length`` points evenly spaced from ``start`` to ``end`` (both included)."""
    steps = np.linspace(0.0, 1.0, length)[:, None]
    targets: FloatArray = start[None, :] + steps * (end - start)[None, :]
    return targets


def sonic_path(
    features: npt.ArrayLike,
    start: int,
    end: int,
    length: int,
    *,
    allowed: BoolArray,
    rng: np.random.Generator,
    artists: npt.ArrayLike | None = None,
    taste: Callable[[IntArray], npt.ArrayLike] | None = None,
    params: PathParams | None = None,
) -> IntArray:
    """A path of up to ``length`` tracks from ``start`` to ``end`` (both always in it, first
    and last: the listener chose them) through ``features`` (``n × F``, standardised: each
    column z-scores). Step ``i`` aims at the ``i``-th of ``length`` points evenly spaced from
    the start's features to the end's and picks, among allowed unused tracks, one with a small
    ``target_weight * |f - target|² + previous_weight * |f - f_prev|² + taste_weight *
    (1 - taste)``. ``taste`` gives tracks' taste in [0, 1] (asked only for the candidates near
    the segment; None: not known). With too few allowed
    tracks the path is shorter (still from ``start`` to ``end``)."""
    p = params or PathParams()
    values = np.asarray(features, dtype=np.float64)
    if length < 2 or start == end:
        raise ValueError("a path needs two different ends and a length of at least 2")
    available = np.asarray(allowed, dtype=bool).copy()
    available[[start, end]] = False
    a, b = values[start], values[end]
    direction = b - a
    span = float(direction @ direction)
    # the tube: tracks nearest to the segment (distance to the nearest point of it)
    projection = ((values - a) @ direction) / span if span > 0 else np.zeros(len(values))
    s = np.clip(projection, 0.0, 1.0)
    nearest = a[None, :] + s[:, None] * direction[None, :]
    distance = np.einsum("ij,ij->i", values - nearest, values - nearest)
    tube = _tube(s, distance, available, length, p)
    points = values[tube]
    along = projection[tube]
    previous_along = 0.0
    liking = (
        np.zeros(len(tube))
        if taste is None
        else 1.0 - np.clip(np.asarray(taste(tube), dtype=np.float64), 0.0, 1.0)
    )
    artist_of = (
        np.full(len(values), -1, dtype=np.int64)
        if artists is None
        else np.asarray(artists, dtype=np.int64)
    )
    open_ = np.ones(len(tube), dtype=bool)
    targets = path_targets(a, b, length)
    picked = [start]
    previous = a
    # t·|f − target|² + p·|f − previous|² = (t + p)|f|² − 2 f·(t target + p previous) + const:
    # one product over the candidates per step
    squares = np.einsum("ij,ij->i", points, points)
    both = p.target_weight + p.previous_weight
    for i in range(1, length - 1):
        aim = p.target_weight * targets[i] + p.previous_weight * previous
        constant = p.target_weight * float(targets[i] @ targets[i]) + p.previous_weight * float(
            previous @ previous
        )
        distance_cost = np.maximum(both * squares - 2.0 * (points @ aim) + constant, 0.0)
        if p.monotone:
            # forward, and never more than a step ahead of this step's target: a greedy jump
            # ahead would otherwise hold every later step ahead of its target
            ahead = min(1.0, (i + 1) / (length - 1))
            onward = open_ & (along >= previous_along)
            for forward in (onward & (along <= ahead), onward & (along <= 1.0), onward):
                if forward.any():
                    distance_cost = np.where(forward, distance_cost, np.inf)
                    break
        # the step's own yardstick: the best distance cost among the open tracks, so that
        # the taste term and the draw's spread are relative to what this step can reach
        unit = max(float(np.min(np.where(open_, distance_cost, np.inf), initial=np.inf)), 1e-9)
        if not np.isfinite(unit):
            break
        cost = distance_cost + p.taste_weight * liking * unit
        cost = np.where(open_, cost, np.inf)
        banned = _run_artist(artist_of, picked, p.max_run)
        if banned >= 0:
            cost = np.where(artist_of[tube] == banned, np.inf, cost)
        if i == length - 2:  # the last pick must leave the end track playable by the rule
            ending = artist_of[end]
            if ending >= 0 and len(picked) >= p.max_run - 1:
                last = artist_of[np.asarray(picked[-(p.max_run - 1) :], dtype=np.int64)]
                if (last == ending).all():
                    cost = np.where(artist_of[tube] == ending, np.inf, cost)
        choice = _choose(-cost / unit, rng, p.choices, p.spread)
        if choice < 0:
            break
        open_[choice] = False
        picked.append(int(tube[choice]))
        previous = points[choice]
        previous_along = float(along[choice])
    picked.append(end)
    return np.asarray(picked, dtype=np.int64)


def mean_step(features: npt.ArrayLike, sequence: npt.ArrayLike) -> float:
    """The mean Euclidean distance between consecutive tracks' ``features`` (0 for fewer than
    two tracks): how smooth a sequence is."""
    rows = np.asarray(features, dtype=np.float64)[np.asarray(sequence, dtype=np.int64)]
    if len(rows) < 2:
        return 0.0
    return float(np.linalg.norm(np.diff(rows, axis=0), axis=1).mean())


def path_progress(features: npt.ArrayLike, sequence: npt.ArrayLike) -> FloatArray:
    """Each track's projection on the start → end direction, 0 at the start and 1 at the end:
    a path whose features move evenly rises steadily from 0 to 1."""
    rows = np.asarray(features, dtype=np.float64)[np.asarray(sequence, dtype=np.int64)]
    direction = rows[-1] - rows[0]
    span = float(direction @ direction)
    if span == 0:
        return np.zeros(len(rows))
    progress: FloatArray = ((rows - rows[0]) @ direction) / span
    return progress
