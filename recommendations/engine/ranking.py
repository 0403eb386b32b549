"""After the blend: filters, the context re-rank and variety, in that order (issue #11).

1. :func:`apply_filters` drops tracks in the history, disliked tracks, tracks of disliked
   genres, tracks of blocked artists, tracks skipped in the last 24 hours.
2. :func:`context_match` / :func:`rerank_for_context` move tracks that suit the listener's
   mood and activity up (:data:`CONTEXT_RULES`).
3. :func:`diversify` picks the final list greedily: maximal marginal relevance over genres
   (Carbonell & Goldstein 1998), never more than ``max_run`` (3) tracks of one artist in a
   row, also when every top candidate is by one artist, and no more than ``artist_limit`` (2)
   of one artist in any ``artist_window`` (10) consecutive places.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .content import unit_rows
from .data import Catalog, ListenerProfile

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: The filters, in the order they are applied (the issue's order; blocked artists, SPEC §6,
#: after disliked genres).
FILTERS = ("history", "disliked", "disliked_genre", "blocked_artist", "skipped_recently")


def apply_filters(
    tracks: npt.ArrayLike, profile: ListenerProfile, catalog: Catalog
) -> tuple[IntArray, dict[str, IntArray]]:
    """The ``tracks`` that survive every filter (order kept), and what each filter dropped
    (a track is counted by the first filter that drops it)."""
    remaining = np.asarray(tracks, dtype=np.int64)
    disliked_genre = np.zeros(catalog.n_tracks, dtype=bool)
    if len(profile.disliked_genres):
        disliked_genre = (
            np.asarray((catalog.genres[:, profile.disliked_genres] != 0).sum(axis=1)).ravel() > 0
        )
    drop = {
        "history": lambda t: np.isin(t, profile.history),
        "disliked": lambda t: np.isin(t, profile.disliked),
        "disliked_genre": lambda t: disliked_genre[t],
        "blocked_artist": lambda t: (
            np.isin(catalog.artist[t], profile.blocked_artists) & (catalog.artist[t] >= 0)
        ),
        "skipped_recently": lambda t: np.isin(t, profile.skipped_recently),
    }
    dropped: dict[str, IntArray] = {}
    for name in FILTERS:
        out = np.asarray(drop[name](remaining), dtype=bool)
        dropped[name] = remaining[out]
        remaining = remaining[~out]
    return remaining, dropped


#: Context → the features that make a track fit it: (feature, +1 the more the better / -1 the
#: less the better). SPEC §6 and issue #11; "commute" has no rule (neutral: no re-rank).
CONTEXT_RULES: Mapping[str, tuple[tuple[str, int], ...]] = {
    "exercise": (("energy", 1), ("tempo", 1)),
    "relax": (("energy", -1), ("acousticness", 1)),
    "party": (("danceability", 1),),
    "focus": (("instrumentalness", 1), ("speechiness", -1)),
    "commute": (),
    "happy": (("valence", 1),),
    "sad": (("valence", -1),),
    "calm": (("energy", -1),),
    "energetic": (("energy", 1),),
}

#: Tempo and loudness on a 0–1 scale for the rules: 60 BPM → 0, 180 BPM → 1 (nearly every
#: track lies between); -60 dB → 0, 0 dB → 1. Other features are 0–1 already.
TEMPO_RANGE = (60.0, 180.0)
LOUDNESS_RANGE = (-60.0, 0.0)


def _unit_feature(catalog: Catalog, name: str, tracks: IntArray) -> FloatArray:
    values = catalog.feature(name)[tracks]
    if name == "tempo":
        low, high = TEMPO_RANGE
        values = (values - low) / (high - low)
    elif name == "loudness":
        low, high = LOUDNESS_RANGE
        values = (values - low) / (high - low)
    # an unknown value is neutral: halfway
    return np.where(np.isnan(values), 0.5, np.clip(values, 0.0, 1.0))


def context_match(
    catalog: Catalog, tracks: npt.ArrayLike, mood: str | None, activity: str | None
) -> FloatArray | None:
    """How well each track fits the context, in [0, 1]: the mean over the rules of the mood and
    the activity of the feature (or ``1 - feature`` for a "less is better" rule). None when no
    given context has a rule; an unknown context name is refused."""
    tracks = np.asarray(tracks, dtype=np.int64)
    terms = []
    for context in (activity, mood):
        if context is None:
            continue
        if context not in CONTEXT_RULES:
            raise ValueError(f"unknown context {context!r}; expected one of {list(CONTEXT_RULES)}")
        for feature, sign in CONTEXT_RULES[context]:
            value = _unit_feature(catalog, feature, tracks)
            terms.append(value if sign > 0 else 1.0 - value)
    return np.mean(terms, axis=0) if terms else None


def rerank_for_context(
    scores: npt.ArrayLike, match: FloatArray | None, strength: float = 0.3
) -> FloatArray:
    """``(1 - strength) * score + strength * match``: scores and match both in [0, 1], so the
    result is too. ``strength`` (0.3, a seed): how far the context can move a track; at 0.3 a
    perfect fit overtakes a track scoring up to 0.43 higher with no fit at all."""
    scores = np.asarray(scores, dtype=np.float64)
    if match is None:
        return scores
    return (1.0 - strength) * scores + strength * match


#: How far :func:`rerank_for_discovery` can move a track at discovery 0 or 1 (a seed, like the
#: context's strength): a fully novel track gains ``strength / 2`` at 1 and loses as much at 0.
DISCOVERY_STRENGTH = 0.4


def novelty(
    catalog: Catalog,
    tracks: npt.ArrayLike,
    profile: ListenerProfile,
    closeness: npt.ArrayLike,
) -> FloatArray:
    """How new each track would be to the listener, in [0, 1]: the mean of

    - how little it is played (``1 - log(1 + plays) / log(1 + most plays among them)``; all
      unplayed: 1);
    - whether its artist is new to the listener (not among their history's and liked tracks'
      artists; an unknown artist counts as new);
    - how far it is from their taste: ``1 - closeness``, where ``closeness`` in [0, 1] is, per
      track, how strongly the history-based sources (collaborative, content) proposed it."""
    tracks = np.asarray(tracks, dtype=np.int64)
    plays = np.log1p(np.maximum(catalog.play_count[tracks], 0).astype(np.float64))
    top = plays.max(initial=0.0)
    unpopular = 1.0 - plays / top if top > 0 else np.ones(len(tracks))
    known_artists = catalog.artist[np.concatenate([profile.history, profile.liked])]
    artists = catalog.artist[tracks]
    new_artist = ~np.isin(artists, known_artists[known_artists >= 0]) | (artists < 0)
    far = 1.0 - np.clip(np.asarray(closeness, dtype=np.float64), 0.0, 1.0)
    values: FloatArray = (unpopular + new_artist + far) / 3.0
    return values


def rerank_for_discovery(
    scores: npt.ArrayLike,
    novelty_values: FloatArray,
    discovery: float,
    strength: float = DISCOVERY_STRENGTH,
) -> FloatArray:
    """``score + strength * (2 * discovery - 1) * (novelty - 0.5)``: at 0.5 (the default) the
    scores are untouched, towards 1 new tracks rise and familiar ones sink, towards 0 the
    reverse. The result is not clipped: only the order matters after this step."""
    scores = np.asarray(scores, dtype=np.float64)
    if discovery == 0.5:
        return scores
    return scores + strength * (2.0 * discovery - 1.0) * (novelty_values - 0.5)


#: :func:`diversify`'s artist limit: at most this many tracks of one artist in any
#: ``ARTIST_WINDOW`` consecutive places (the site's: ``RECOMMENDER["ensemble"]``), unless the
#: listener's own tracks give the artist more (:func:`artist_allowance`).
ARTIST_LIMIT = 2
ARTIST_WINDOW = 10
#: :func:`artist_allowance`'s prior: as if the listener had this many more tracks, by other
#: artists, so that one or two tracks of an artist do not yet make it their favourite.
ARTIST_PRIOR = 5.0


def artist_allowance(
    profile: ListenerProfile,
    catalog: Catalog,
    *,
    limit: int = ARTIST_LIMIT,
    window: int = ARTIST_WINDOW,
    prior: float = ARTIST_PRIOR,
) -> dict[int, int]:
    """The artists the listener's own tracks (history and likes) give more places than
    ``limit`` in ``window``: ``ceil(window * tracks of the artist / (tracks + prior))``, where
    that is above ``limit``. A listener whose history is half one artist's gets that artist in
    about half of each window; one or two tracks of it (a new listener) give it nothing more.
    What listeners play again and again stays in their lists, and one artist's catalogue no
    longer fills the list of someone who played it once."""
    known = np.unique(np.concatenate([profile.history, profile.liked]))
    artists = catalog.artist[known]
    artists = artists[artists >= 0]
    if not len(artists):
        return {}
    names, counts = np.unique(artists, return_counts=True)
    places = np.ceil(window * counts / (len(known) + prior) - 1e-9).astype(np.int64)
    return {int(a): int(c) for a, c in zip(names, places, strict=True) if c > limit}


def diversify(
    tracks: npt.ArrayLike,
    scores: npt.ArrayLike,
    catalog: Catalog,
    n: int,
    *,
    max_run: int = 3,
    relevance: float = 0.8,
    artist_limit: int | None = ARTIST_LIMIT,
    artist_window: int = ARTIST_WINDOW,
    artist_allowance: Mapping[int, int] | None = None,
) -> IntArray:
    """The final ``n`` tracks, picked one at a time: of the tracks that keep the artist rule,
    the one with the highest ``relevance * score - (1 - relevance) * genre_similarity``, where
    ``genre_similarity`` is the largest cosine between its genres and those of a track already
    picked (MMR). ``relevance`` (0.8, a seed to tune on validation against intra-list
    diversity): at 0.8 a track whose genres repeat one already listed needs a score 0.25
    higher than a fresh one.

    The artist rules (tracks of an unknown artist, -1, count as distinct):

    - no more than ``max_run`` consecutive tracks by one artist. When only that artist's tracks
      are left the list ends early rather than break it; ask for a deep enough candidate pool.
    - no more than ``artist_limit`` tracks by one artist among any ``artist_window``
      consecutive places (None: no limit), or ``artist_allowance[artist]`` where that is
      given (:func:`artist_allowance`: what the listener's own tracks give the artist). The
      run rule alone let an artist whose tracks fill
      the top of the blend (a new listener's popularity-led list: one artist's hits) take
      5 of a top 10 as A A A B A A …, since the genre term hardly weighs at the tuned
      relevance. This limit gives way rather than end the list early: when every candidate
      left is by an artist at its limit, the best of them is taken (the run rule still holds).
      A sliding window, not a count over the whole list, so that each pick depends only on the
      picks before it and a shorter list stays the prefix of a longer one.

    Only the best-scored candidates can win (a track's value is at most ``relevance *
    score``), so the greedy steps run over a window of the top ``window_factor * n`` (at least
    ``n + 50``) and the window is widened until it provably picked what the whole pool would
    have: every pick's value above anything a candidate outside could reach, and no early end.
    The result is the same as over the whole pool, in a fraction of the time."""
    tracks = np.asarray(tracks, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    if len(tracks) != len(scores):
        raise ValueError("one score per track")
    if artist_limit is not None and (artist_limit < 1 or artist_window < 1):
        raise ValueError("artist_limit and artist_window must be at least 1")
    genres_all = sp.csr_matrix(catalog.genres)
    order = np.argsort(-scores, kind="stable")
    window = max(WINDOW_FACTOR * n, n + 50)
    while True:
        inside = np.sort(order[:window])  # the pool's own order: ties break as over all of it
        ceiling = relevance * scores[order[window]] if window < len(order) else -np.inf
        picked, certain = _mmr(
            tracks[inside],
            scores[inside],
            np.asarray(genres_all[tracks[inside]].toarray()),
            catalog.artist[tracks[inside]],
            n,
            max_run=max_run,
            relevance=relevance,
            ceiling=ceiling,
            artist_limit=artist_limit,
            artist_window=artist_window,
            artist_allowance=artist_allowance or {},
        )
        if certain or window >= len(order):
            return tracks[inside[picked]]
        window *= 2


#: :func:`diversify`'s first window, in multiples of ``n``.
WINDOW_FACTOR = 4


def _mmr(
    tracks: IntArray,
    scores: FloatArray,
    genre_rows: FloatArray,
    artists: IntArray,
    n: int,
    *,
    max_run: int,
    relevance: float,
    ceiling: float,
    artist_limit: int | None = None,
    artist_window: int = ARTIST_WINDOW,
    artist_allowance: Mapping[int, int] | None = None,
) -> tuple[list[int], bool]:
    """The greedy picks over these candidates, and whether a candidate left out (whose value
    is at most ``ceiling``) could not have changed them."""
    genres = unit_rows(genre_rows)
    available = np.ones(len(tracks), dtype=bool)
    most_similar = np.zeros(len(tracks))
    picked: list[int] = []
    everything = not np.isfinite(ceiling)
    while len(picked) < n and available.any():
        value = relevance * scores - (1.0 - relevance) * most_similar
        value[~available] = -np.inf
        if len(picked) >= max_run:
            last = artists[picked[-max_run:]]
            if last[0] >= 0 and (last == last[0]).all():
                value[artists == last[0]] = -np.inf
        limited = value
        if artist_limit is not None:
            recent = artists[picked[len(picked) - min(len(picked), artist_window - 1) :]]
            recent = recent[recent >= 0]
            names, counts = np.unique(recent, return_counts=True)
            allowance = artist_allowance or {}
            caps = np.array([allowance.get(int(a), artist_limit) for a in names], dtype=np.int64)
            full = names[counts >= caps]
            if len(full):
                limited = np.where(np.isin(artists, full), -np.inf, value)
        choice = int(np.argmax(limited))
        if not np.isfinite(limited[choice]):
            if not everything:
                # an outsider might keep the limit: widen before giving way
                return picked, False
            choice = int(np.argmax(value))  # the limit gives way; the run rule does not
        if not np.isfinite(value[choice]) or value[choice] <= ceiling:
            # nothing left here, or an outsider might have done as well: not certain
            return picked, everything
        picked.append(choice)
        available[choice] = False
        most_similar = np.maximum(most_similar, genres @ genres[choice])
    return picked, len(picked) == n or everything
