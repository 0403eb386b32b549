"""Generated sequences for one listener: a radio, a mood or activity mix, a sonic path, or their
recommendations, as track ids with a name and a description after how each was made.

Everything comes from the process's serving state (``selectors.serving.serving_state``): the
catalog's arrays, the content vectors the content predictor holds, the active model's ALS track
vectors (none before the first training: the radio then walks in content alone), the popularity
prior. A request reads only the listener's own rows (``serving.listener_profile``: history,
opinions, skips, genre preferences, blocks, their confidence row) and the few tracks or the
artist it names; no table is read whole. The engine (``engine.sequences``) does the rest.

What may be played (:func:`_allowed`): never a track the listener disliked, one of a genre they
dislike, or one credited to an artist they blocked (any credited artist, not only the first).
The tracks the listener names — a radio's seed track, a path's two ends — are played even so:
they chose them. A sequence the allowed tracks cannot fill comes back shorter, never padded;
its parameters say ``requested`` and ``found``.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.utils import timezone

from accounts.models import User
from accounts.validators import Activity, Mood
from catalog.models import Artist, Track
from catalog.selectors import artist_get, track_get
from musicrec.errors import ApplicationError
from recommendations.engine.content import standardised_features, unit_rows
from recommendations.engine.data import ListenerProfile
from recommendations.engine.ensemble import recommend
from recommendations.engine.predictors import CollaborativePredictor, ContentPredictor
from recommendations.engine.sequences import (
    MixParams,
    PathParams,
    RadioParams,
    Similarity,
    Space,
    Taste,
    allowed_tracks,
    mood_mix,
    radio,
    sonic_path,
)
from recommendations.selectors.serving import ServingState, listener_profile, serving_state

IntArray = npt.NDArray[np.int64]

#: The kinds of generated sequence (the playlists' ``GENERATION_KINDS``).
RECOMMENDATIONS = "recommendations"
RADIO = "radio"
MOOD = "mood"
PATH = "path"
KINDS = (RECOMMENDATIONS, RADIO, MOOD, PATH)

#: How many of an artist's tracks (the most popular) make an artist radio's seed.
ARTIST_SEEDS = 10


@dataclass(frozen=True)
class GeneratedSequence:
    """Track ids in order, a ``name`` and a ``description`` that say how they were made, and
    the ``parameters`` that made them (kind, what was named, the seed, ``requested`` and
    ``found``): enough to make the same sequence again from the same state."""

    track_ids: list[int]
    name: str
    description: str
    parameters: dict[str, Any]


# --- what the state holds, per state ----------------------------------------------------------


@dataclass(frozen=True)
class _Inputs:
    #: the state these were made from, weakly: a replaced state is not kept alive by them
    state: weakref.ReferenceType[ServingState]
    similarity: Similarity
    features: npt.NDArray[np.float64]  # standardised audio features
    popularity: npt.NDArray[np.float64]  # the catalog's popularity in [0, 1]
    collaborative: CollaborativePredictor | None


_inputs: _Inputs | None = None
_inputs_lock = threading.Lock()


def _sequence_inputs(state: ServingState) -> _Inputs:
    """The arrays the engine walks in, made once per serving state: they are views of what the
    state's predictors hold (the content predictor's unit vectors and standardised features,
    the ALS track factors), so a process holds them once; only the small per-track norms and
    the popularity column are new."""
    global _inputs
    current = _inputs
    if current is not None and current.state() is state:
        return current
    with _inputs_lock:
        if _inputs is not None and _inputs.state() is state:
            return _inputs
        content = state.predictors.get("content")
        if isinstance(content, ContentPredictor):
            unit, features = content.unit, content.standardised
        else:  # content left out of the ensemble: computed here instead
            unit = unit_rows(state.engine.content_vectors(), dtype=np.float32)
            features = standardised_features(state.engine.catalog.features)
        collaborative = state.predictors.get("collaborative")
        als = collaborative.als if isinstance(collaborative, CollaborativePredictor) else None
        config = _config()
        similarity = Similarity(
            content=Space(unit),
            collaborative=Space(als.item_factors_) if als is not None else None,
            collaborative_weight=float(config.get("collaborative_weight", 0.5)),
        )
        _inputs = _Inputs(
            state=weakref.ref(state),
            similarity=similarity,
            features=features,
            popularity=np.clip(state.engine.popularity, 0.0, 100.0) / 100.0,
            collaborative=collaborative
            if isinstance(collaborative, CollaborativePredictor)
            else None,
        )
        return _inputs


def _config() -> Mapping[str, Any]:
    recommender: Mapping[str, Any] = getattr(settings, "RECOMMENDER", {}) or {}
    playlists: Mapping[str, Any] = recommender.get("playlists", {}) or {}
    return playlists


# --- the listener -----------------------------------------------------------------------------


def _allowed(state: ServingState, profile: ListenerProfile) -> npt.NDArray[np.bool_]:
    credits = state.engine.memberships.get("artist")
    return allowed_tracks(
        state.engine.catalog,
        disliked=profile.disliked,
        disliked_genres=profile.disliked_genres,
        blocked_artists=profile.blocked_artists,
        credits=(credits.track, credits.group) if credits is not None else None,
    )


def _taste(inputs: _Inputs, profile: ListenerProfile, n_tracks: int) -> Taste:
    """The listener's taste: the mean of their history's and liked tracks' content vectors, and
    their collaborative vector folded in from their row (when a model is trained); an empty
    :class:`Taste` for a listener with neither."""
    tracks = np.unique(np.concatenate([profile.history, profile.liked]))
    content = inputs.similarity.content.unit(tracks).mean(axis=0) if len(tracks) else None
    collaborative = None
    model = inputs.collaborative.als if inputs.collaborative is not None else None
    if model is not None:
        row = profile.row(n_tracks)
        if (row.data > 0).any():
            collaborative = np.asarray(model.user_vectors(row), dtype=np.float64)[0]
    return Taste(content=content, collaborative=collaborative)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _index(state: ServingState, track: Track) -> int:
    """The track's engine index; a track saved after the state was built (its generation has
    moved, so the next request rebuilds) is not there yet: "not found" for now, never a 500."""
    at = int(state.engine.indices([track.pk])[0])
    if at < 0:
        raise ApplicationError(
            "This track is not in the recommender's catalog yet; try again in a moment.",
            code="not_found",
            status=404,
        )
    return at


def _ids(state: ServingState, tracks: IntArray) -> list[int]:
    return [int(i) for i in state.engine.track_ids[np.asarray(tracks, dtype=np.int64)]]


# --- names ------------------------------------------------------------------------------------


def _shorten(text: str, most: int) -> str:
    """``text`` in at most ``most`` characters: cut at a word when one ends late enough, with
    an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= most:
        return text
    if most <= 1:
        return "…"[:most]
    cut = text[: most - 1]
    space = cut.rfind(" ")
    if space >= most // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def fit_name(template: str, *titles: str, most: int) -> str:
    """``template.format(*titles)`` in at most ``most`` characters: the longest title is
    shortened first (:func:`_shorten`), so "From <a long title> to Enter Sandman" keeps the
    second title whole."""
    parts = [" ".join(title.split()) for title in titles]
    room = most - len(template.format(*([""] * len(parts))))
    while sum(len(part) for part in parts) > room:
        longest = max(range(len(parts)), key=lambda i: len(parts[i]))
        excess = sum(len(part) for part in parts) - room
        parts[longest] = _shorten(parts[longest], max(len(parts[longest]) - excess, 1))
        if sum(len(part) for part in parts) > room and all(len(part) <= 1 for part in parts):
            break
    return template.format(*parts)[:most]


def _shortfall(requested: int, found: int) -> str:
    if found >= requested:
        return ""
    return (
        f" Only {found} of the {requested} tracks asked for could be found among the tracks "
        "you may be given (none you disliked, of a genre you dislike or by an artist you "
        "blocked)."
    )


def _parameters(kind: str, seed: int, requested: int, found: int, **named: Any) -> dict[str, Any]:
    return {"kind": kind, **named, "seed": seed, "requested": requested, "found": found}


def _artist_name(track: Track) -> str:
    credits = list(track.track_artists.all())
    return credits[0].artist.name if credits else ""


# --- the four kinds ---------------------------------------------------------------------------


def sequence_radio(
    *,
    user: User,
    length: int,
    seed: int,
    seed_track_id: int | None = None,
    seed_artist_id: int | None = None,
    name_max: int = 200,
) -> GeneratedSequence:
    """A radio from a track (played first) or from an artist (their most popular allowed
    track first, their ``ARTIST_SEEDS`` most popular tracks as the seed). Give exactly one of
    ``seed_track_id`` / ``seed_artist_id``; an unknown one is an ``ApplicationError`` 404."""
    if (seed_track_id is None) == (seed_artist_id is None):
        raise ValueError("a radio needs exactly one of seed_track_id and seed_artist_id")
    state = serving_state()
    inputs = _sequence_inputs(state)
    profile = listener_profile(user=user, engine=state.engine)
    allowed = _allowed(state, profile)
    params = RadioParams(**_config().get("radio", {}))
    first: int | None
    weights: npt.NDArray[np.float64] | None
    if seed_track_id is not None:
        track = track_get(track_id=seed_track_id)
        at = _index(state, track)
        seeds, weights, first = np.array([at], dtype=np.int64), None, at
        allowed[at] = True  # the listener chose it
        title = track.title
        artist = _artist_name(track)
        name = fit_name("Radio from {}", title, most=name_max)
        origin = f"{title} by {artist}" if artist else title
        named: dict[str, Any] = {"seed_track_id": track.pk}
    else:
        assert seed_artist_id is not None
        artist_row: Artist = artist_get(artist_id=seed_artist_id)
        seeds, weights = _artist_seeds(state, artist_row, inputs)
        if not len(seeds):
            raise ApplicationError(
                "This artist has no tracks to start a radio from.", code="not_found", status=404
            )
        playable = seeds[allowed[seeds]]
        first = int(playable[0]) if len(playable) else None
        name = fit_name("Radio from {}", artist_row.name, most=name_max)
        origin = artist_row.name
        named = {"seed_artist_id": artist_row.pk}
    tracks = radio(
        seeds,
        length,
        catalog=state.engine.catalog,
        similarity=inputs.similarity,
        allowed=allowed,
        rng=_rng(seed),
        taste=_taste(inputs, profile, state.engine.n_tracks),
        first=first,
        seed_weights=weights,
        params=params,
    )
    description = (
        f"A radio from {origin}: similar tracks, drifting away from it gradually, never one "
        "artist more than twice in a row." + _shortfall(length, len(tracks))
    )
    return GeneratedSequence(
        track_ids=_ids(state, tracks),
        name=name,
        description=description,
        parameters=_parameters(RADIO, seed, length, len(tracks), **named),
    )


def _artist_seeds(
    state: ServingState, artist: Artist, inputs: _Inputs
) -> tuple[IntArray, npt.NDArray[np.float64] | None]:
    """The artist's credited tracks in the state, most popular first (at most
    :data:`ARTIST_SEEDS`), weighted by popularity (evenly when none is known)."""
    credits = state.engine.memberships.get("artist")
    group = int(state.engine.artist_indices([artist.pk])[0]) if credits is not None else -1
    if credits is None or group < 0:
        return np.zeros(0, dtype=np.int64), None
    tracks = np.unique(credits.track[credits.group == group])
    popularity = inputs.popularity[tracks]
    order = np.lexsort((tracks, -popularity))[:ARTIST_SEEDS]
    tracks = tracks[order]
    weights = inputs.popularity[tracks] + 0.05  # nothing popular: nearly even
    return tracks.astype(np.int64), weights


def _label(choices: type[Mood] | type[Activity], value: str | None) -> str | None:
    if not value:
        return None
    return str(choices(value).label)


def sequence_mood(
    *,
    user: User,
    length: int,
    seed: int,
    mood: str | None = None,
    activity: str | None = None,
    name_max: int = 200,
) -> GeneratedSequence:
    """A mix for ``mood`` and/or ``activity`` (the accounts' choices; at least one)."""
    if not mood and not activity:
        raise ValueError("a mix needs a mood or an activity")
    state = serving_state()
    inputs = _sequence_inputs(state)
    profile = listener_profile(user=user, engine=state.engine)
    tracks = mood_mix(
        length,
        catalog=state.engine.catalog,
        mood=mood or None,
        activity=activity or None,
        allowed=_allowed(state, profile),
        rng=_rng(seed),
        popularity=inputs.popularity,
        similarity=inputs.similarity,
        taste=_taste(inputs, profile, state.engine.n_tracks),
        params=MixParams(**_config().get("mix", {})),
    )
    mood_label, activity_label = _label(Mood, mood), _label(Activity, activity)
    if mood_label and activity_label:
        name = f"{mood_label} {activity_label.lower()} mix"
        fits = f"a {mood_label.lower()} mood and {activity_label.lower()}"
    else:
        word = mood_label or activity_label or ""
        name = f"{word} mix"
        fits = f"a {word.lower()} mood" if mood_label else word.lower()
    description = (
        f"Tracks whose sound fits {fits}, leaning to your taste, varied in artists and "
        "genres." + _shortfall(length, len(tracks))
    )
    return GeneratedSequence(
        track_ids=_ids(state, tracks),
        name=name[:name_max],
        description=description,
        parameters=_parameters(
            MOOD, seed, length, len(tracks), mood=mood or None, activity=activity or None
        ),
    )


def sequence_path(
    *,
    user: User,
    length: int,
    seed: int,
    from_track_id: int,
    to_track_id: int,
    name_max: int = 200,
) -> GeneratedSequence:
    """A sonic path from one track to another (two different tracks; ``length`` counts both)."""
    if from_track_id == to_track_id:
        raise ValueError("a path needs two different tracks")
    state = serving_state()
    inputs = _sequence_inputs(state)
    first, last = track_get(track_id=from_track_id), track_get(track_id=to_track_id)
    start, end = _index(state, first), _index(state, last)
    profile = listener_profile(user=user, engine=state.engine)
    taste = _taste(inputs, profile, state.engine.n_tracks)
    tracks = sonic_path(
        inputs.features,
        start,
        end,
        length,
        allowed=_allowed(state, profile),
        rng=_rng(seed),
        artists=state.engine.catalog.artist,
        taste=(lambda at: taste.score(inputs.similarity, at)) if taste.known else None,
        params=PathParams(**_config().get("path", {})),
    )
    description = (
        f"A sonic path from {first.title} to {last.title}: the sound moves evenly from the one "
        "to the other, each track close to the one before." + _shortfall(length, len(tracks))
    )
    return GeneratedSequence(
        track_ids=_ids(state, tracks),
        name=fit_name("From {} to {}", first.title, last.title, most=name_max),
        description=description,
        parameters=_parameters(
            PATH,
            seed,
            length,
            len(tracks),
            from_track_id=first.pk,
            to_track_id=last.pk,
        ),
    )


def sequence_recommendations(
    *, user: User, length: int, seed: int, name_max: int = 200
) -> GeneratedSequence:
    """The listener's recommendations (``engine.ensemble.recommend``, as served, with their
    stored context), minus any track a co-credited blocked artist made; deterministic whatever
    the seed (it is recorded all the same)."""
    state = serving_state()
    profile = listener_profile(user=user, engine=state.engine)
    allowed = _allowed(state, profile)
    result = recommend(
        profile,
        state.predictors,
        state.engine.catalog,
        n=min(2 * length, length + 50),
        params=state.params,
    )
    tracks = np.array(
        [item.track for item in result.items if allowed[item.track]][:length], dtype=np.int64
    )
    today = timezone.now().astimezone(_zone(user)).date()
    name = f"Your recommendations, {today.day} {today:%B}"
    description = (
        f"Your recommendations on {today.day} {today:%B %Y}: what the recommender picked for "
        "you, varied in artists and genres." + _shortfall(length, len(tracks))
    )
    return GeneratedSequence(
        track_ids=_ids(state, tracks),
        name=name[:name_max],
        description=description,
        parameters=_parameters(RECOMMENDATIONS, seed, length, len(tracks), date=str(today)),
    )


def _zone(user: User) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC
