"""Serving recommendations: the engine, fed from the database, for one listener.

A web process keeps one :class:`ServingState` in memory: the catalog's engine arrays, the active
model (EASE's sparse neighbours from the version's artifact, ALS's track vectors from pgvector),
the trending scores and cohort tables of the materialized views, and the predictors built from
them by ``engine.training.build_predictors`` (the same call the offline evaluation makes). The
state is keyed by three generations (catalog, active model version, popularity refresh); when any
moves, the next request rebuilds it (one at a time per process, the others keep serving the
previous state meanwhile). A listener's request then reads only their own rows (history,
opinions, interactions, preferences) and runs ``engine.ensemble.recommend``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import datetime as dt
import gc
import hashlib
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from accounts.models import ArtistBlock, GenrePreference, User
from catalog.models import Track
from history.models import HistoryEntry, Interaction, Opinion
from recommendations.engine.data import Demographics, ListenerProfile, age_band
from recommendations.engine.ensemble import (
    EnsembleParams,
    reason_text,
    recommend,
)
from recommendations.engine.experiments import team_draft_interleave, variant_params
from recommendations.engine.matrix import TrainingMatrix
from recommendations.engine.predictors import Predictor
from recommendations.engine.training import (
    Trained,
    build_predictors,
)
from recommendations.selectors.catalog import EngineCatalog, engine_catalog
from recommendations.selectors.params import recommender_params
from recommendations.selectors.vectors import active_model, active_model_version_id

logger = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]

#: Django cache key of the catalog generation, bumped by ``recommendations.services.serving``
#: whenever a track is created or edited.
CATALOG_GENERATION_KEY = "recommendations:catalog-generation"

#: How long a skip keeps a track out of the listener's recommendations (issue #11).
SKIP_MEMORY = dt.timedelta(hours=24)


# --- the per-process state --------------------------------------------------------------------


@dataclass(frozen=True)
class ServingState:
    """What a web process serves from (see the module docstring)."""

    key: tuple[Any, ...]
    engine: EngineCatalog
    predictors: dict[str, Predictor]
    model_version_id: int | None
    params: EnsembleParams
    built_seconds: float = 0.0
    built_at: dt.datetime = field(default_factory=timezone.now)


_state: ServingState | None = None
_building = threading.Lock()


def catalog_generation() -> int:
    """The catalog generation from the cache (0 when it was never bumped; with the cache down,
    the loaded one: then only a model or popularity change reloads the catalog)."""
    try:
        return int(cache.get(CATALOG_GENERATION_KEY, 0))
    except Exception:  # the cache (Redis) is down: keep serving the catalog that is loaded
        logger.warning("cache unavailable: catalog generation unknown", exc_info=True)
        return int(_state.key[0]) if _state is not None else 0


def popularity_generation() -> object:
    """The popularity views' refresh generation."""
    from recommendations.selectors import popularity

    return popularity.popularity_generation()


def generation_key() -> tuple[Any, ...]:
    """What the served lists are computed from, as generations: (catalog, active model version,
    popularity refresh). The state is rebuilt when it moves, and cached lists are keyed by it
    (``recommendations.services.cache``), so a finished training or view refresh makes the next
    request fresh. One cache read and two primary-key lookups."""
    return (catalog_generation(), active_model_version_id(), popularity_generation())


def loaded_generation_key() -> tuple[Any, ...] | None:
    """The generations of the state this process serves from now (None before the first
    build): behind :func:`generation_key` while another thread rebuilds it."""
    current = _state
    return current.key if current is not None else None


def serving_state() -> ServingState:
    """The current state, rebuilt when a generation moved. While one thread rebuilds, the
    others keep answering from the previous state (a first build is waited for)."""
    global _state
    key = generation_key()
    current = _state
    if current is not None and current.key == key:
        return current
    if current is not None and not _building.acquire(blocking=False):
        return current
    if current is None:
        _building.acquire()
    try:
        if _state is not None and _state.key == key:
            return _state
        built = _build_state(key)
        _state = built
        # the previous state is let go before the memory is settled: its arrays, rows and
        # objects are freed by then (unless a request still reads them), so the process hands
        # their memory back instead of keeping two states' worth (docs/benchmarks.md)
        del current
        _settle_memory()
        return built
    finally:
        _building.release()


def serving_state_warm_up() -> bool:
    """Build the serving state now (what the first request would otherwise wait for): the web
    process's start-up calls it in a background thread (:func:`serving_state_warm_up_start`).
    Requests that arrive meanwhile wait for this build, as they would for a first request's.
    Never raises: a failure (the database unreachable …) is logged, and the first request
    builds the state as before. Closes this thread's database connections when done."""
    try:
        state = serving_state()
    except Exception:
        logger.exception("serving state warm-up failed: the first request builds it")
        return False
    else:
        logger.info(
            "serving state warmed up at start in %.2f s (%d tracks)",
            state.built_seconds,
            state.engine.n_tracks,
        )
        return True
    finally:
        connections.close_all()  # this thread's own connections (back to the pool)


def serving_state_warm_up_start() -> threading.Thread | None:
    """Start :func:`serving_state_warm_up` in a daemon thread when
    ``RECOMMENDER["serving"]["warm_up"]`` is on (the thread, else None)."""
    if not settings.RECOMMENDER.get("serving", {}).get("warm_up", False):
        return None
    thread = threading.Thread(
        target=serving_state_warm_up, name="serving-state-warm-up", daemon=True
    )
    thread.start()
    return thread


def serving_state_reset() -> None:
    """Forget the state (tests; a process that must re-read everything)."""
    global _state
    _state = None


def _build_state(key: tuple[Any, ...]) -> ServingState:
    started = time.perf_counter()
    engine = engine_catalog()
    model_version_id = key[1]
    trained = _load_model(engine, model_version_id)
    trending, cohorts = _load_popularity(engine)
    predictors = build_predictors(
        engine.catalog,
        trained,
        content_vectors=engine.content_vectors(),
        trending=trending,
        cohort_tables=cohorts,
        params=recommender_params()[1],
    )
    seconds = time.perf_counter() - started
    logger.info(
        "serving state built in %.2f s: %d tracks, model %s, sources %s",
        seconds,
        engine.n_tracks,
        model_version_id,
        ", ".join(predictors),
    )
    return ServingState(
        key=key,
        engine=engine,
        predictors=predictors,
        model_version_id=model_version_id,
        params=recommender_params()[2],
        built_seconds=seconds,
    )


def _settle_memory() -> None:
    """After a build, once the new state replaced the old one (measured with
    ``make bench-recommend`` and ``make bench-serve``, docs/benchmarks.md):

    - ``gc.freeze()`` moves every object alive now (Django's, the state's) to the collector's
      permanent generation, so its full passes stop walking them: they were the slow tail of
      requests (p95 of 100 results 155 → 85 ms on the full catalog). What the previous build
      froze is unfrozen first, so whatever of it has become garbage since is still collected;
    - ``malloc_trim(0)`` (glibc) hands the heap that the build's temporary rows and arrays
      left free back to the system, so the process's resident size is what it holds.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


def _load_popularity(engine: EngineCatalog) -> tuple[npt.NDArray[np.float64] | None, list[Any]]:
    """Trending scores and cohort tables from the materialized views. Tracks that trend on
    the site come first (scores above 1); behind them, the catalog's own popularity (Spotify's
    0–100, scaled below 1) is the prior, so a site without plays yet, or a listener whose
    genres nobody here plays, still gets popular tracks."""
    from recommendations.selectors import popularity

    try:
        with transaction.atomic():  # a savepoint: a failure leaves the caller's transaction usable
            trending = popularity.trending_scores(track_ids=engine.track_ids)
            cohorts = popularity.cohort_tables(track_ids=engine.track_ids)
    except DatabaseError:  # a view emptied by hand (REFRESH … WITH NO DATA): serve without it
        logger.warning("popularity views unreadable: the catalog's popularity only", exc_info=True)
        trending, cohorts = np.zeros(engine.n_tracks), []
    peak = float(trending.max()) if len(trending) else 0.0
    prior = np.clip(engine.popularity, 0.0, 100.0) / 101.0
    scores = np.where(trending > 0, 1.0 + trending / max(peak, 1e-12), prior)
    return (scores if np.any(scores > 0) else None), cohorts


def _load_model(engine: EngineCatalog, model_version_id: int | None) -> Trained | None:
    """The active model over the current catalog's indices: EASE's neighbours remapped from
    the training snapshot's track ids, ALS's track vectors read from pgvector (tracks added
    after training carry the vectors folded in when they were saved)."""
    loaded = active_model() if model_version_id is not None else None
    if loaded is None or loaded[0] != model_version_id:  # swapped since: the next request reloads
        return None
    artifact = loaded[1]
    n = engine.n_tracks
    ease = None
    if artifact.ease is not None and len(artifact.ease.tracks):
        # snapshot column → current engine index; both are ascending ids, so the order holds
        mapped = engine.indices(artifact.track_ids[artifact.ease.tracks])
        keep = np.flatnonzero(mapped >= 0)
        model = artifact.ease.model(n)
        model.tracks_ = mapped[keep]
        weights = artifact.ease.weights
        # the artifact's own matrix when every modelled track is still in the catalog (no
        # second copy of ~13 MB per process); otherwise without the deleted tracks
        model.weights_ = (
            weights if len(keep) == len(mapped) else sp.csr_matrix(weights[keep][:, keep])
        )
        ease = model
    als = None
    if artifact.als is not None:
        factors = _track_vectors(engine, model_version_id, artifact.als.factors)
        if factors is not None:
            als = artifact.als_model(factors)
    if ease is None and als is None:
        return None
    return Trained(
        params=artifact.training_params(),
        training=TrainingMatrix(matrix=sp.csr_matrix((0, n), dtype=np.float32), n_listeners=0),
        ease=ease,
        als=als,
    )


def _track_vectors(
    engine: EngineCatalog, model_version_id: int, width: int
) -> npt.NDArray[np.float32] | None:
    """The version's track vectors aligned with the engine's tracks (zeros where missing),
    read in batches as ``real[]`` through a server-side cursor: the client holds one batch at
    a time, never the whole result (90k vectors are ~110 MB as text). A model narrower than
    the column keeps its factors first and zeros after them: only ``width`` are kept."""
    factors = np.zeros((engine.n_tracks, width), dtype=np.float32)
    found = 0
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(
            "SELECT track_id, vector::real[] FROM recommendations_trackvector"
            " WHERE model_version_id = %s",
            [model_version_id],
        )
        while rows := cursor.fetchmany(5000):
            at = engine.indices(int(row[0]) for row in rows)
            known = at >= 0
            if known.any():
                block = np.asarray([row[1] for row in rows], dtype=np.float32)[:, :width]
                factors[at[known]] = block[known]
                found += int(known.sum())
    return factors if found else None


# --- one listener -----------------------------------------------------------------------------


def listener_profile(
    *,
    user: User,
    engine: EngineCatalog,
    mood: str | None = None,
    activity: str | None = None,
    discovery: float | None = None,
    now: dt.datetime | None = None,
) -> ListenerProfile:
    """Everything the engine knows of ``user``, in the engine's indices. ``mood`` /
    ``activity`` override the stored context for this request only ("" clears it), as
    ``discovery`` (0–1) overrides the listener's default."""
    now = now or timezone.now()

    def indices(track_ids: Any) -> IntArray:
        found = engine.indices(list(track_ids))
        return found[found >= 0]

    history = indices(HistoryEntry.objects.filter(user=user).values_list("track_id", flat=True))
    opinions = list(Opinion.objects.filter(user=user).values_list("track_id", "value"))
    liked = indices(track for track, value in opinions if value == Opinion.Value.LIKE)
    disliked = indices(track for track, value in opinions if value == Opinion.Value.DISLIKE)
    skipped = indices(
        Interaction.objects.filter(
            user=user, kind=Interaction.Kind.SKIP, occurred_at__gte=now - SKIP_MEMORY
        ).values_list("track_id", flat=True)
    )
    preferences = list(GenrePreference.objects.filter(user=user).values_list("genre_id", "kind"))
    preferred = engine.genre_indices(
        genre for genre, kind in preferences if kind == GenrePreference.Kind.PREFERRED
    )
    disliked_genres = engine.genre_indices(
        genre for genre, kind in preferences if kind == GenrePreference.Kind.DISLIKED
    )
    blocked = engine.artist_indices(
        ArtistBlock.objects.filter(user=user).values_list("artist_id", flat=True)
    )
    return ListenerProfile(
        history=history,
        liked=liked,
        disliked=disliked,
        skipped_recently=skipped,
        preferred_genres=preferred,
        disliked_genres=disliked_genres,
        blocked_artists=blocked,
        interactions=_interaction_row(user=user, engine=engine),
        demographics=Demographics(
            age_band=age_band(user.age),
            country=str(user.country or "") or None,
            gender=user.gender or None,
            occupation=user.occupation or None,
        ),
        mood=(user.mood if mood is None else mood) or None,
        activity=(user.activity if activity is None else activity) or None,
        discovery=float(user.discovery if discovery is None else discovery),
    )


def _interaction_row(*, user: User, engine: EngineCatalog) -> sp.csr_matrix:
    """The listener's confidence row, built as training builds every listener's."""
    from recommendations.selectors.training import listener_rows

    _, rows = listener_rows(user_ids=[user.pk], engine_catalog=engine)
    return sp.csr_matrix(rows[0:1])


@dataclass(frozen=True)
class RecommendedTrack:
    """One served result: the track (with album, credits and genres loaded), its place, the
    final ``score`` and ``confidence`` in [0, 1], each source's score, and the reasons as
    ``{"kind", "source", "text"}``."""

    track: Track
    position: int
    score: float
    confidence: float
    sources: dict[str, float]
    reasons: list[dict[str, str]]
    #: in an interleaved list, which variant's list picked it (0 or 1)
    team: int | None = None


@dataclass(frozen=True)
class RecommendationList:
    items: list[RecommendedTrack]
    model_version_id: int | None
    weights: dict[str, float]
    unavailable: dict[str, str]
    failed: dict[str, str]
    parameters: dict[str, Any]


def recommendations_for(
    *,
    user: User,
    n: int = 5,
    mood: str | None = None,
    activity: str | None = None,
    discovery: float | None = None,
    variant: Mapping[str, Any] | None = None,
) -> RecommendationList:
    """Up to ``n`` recommendations for ``user`` (a new listener gets popular and cohort
    picks; a failing predictor is left out, logged, and the others answer). ``mood``,
    ``activity`` and ``discovery`` override the listener's stored ones for this list only.

    ``variant``: an experiment variant's clean parameters (``engine.experiments``) over the
    site's; its ``discovery`` is the default of a listener who never moved theirs."""
    state = serving_state()
    profile = listener_profile(
        user=user,
        engine=state.engine,
        mood=mood,
        activity=activity,
        discovery=_variant_discovery(user=user, discovery=discovery, variant=variant),
    )
    params = state.params if not variant else variant_params(state.params, variant)
    result = recommend(profile, state.predictors, state.engine.catalog, n=n, params=params)
    return RecommendationList(
        items=_recommended_tracks(state, list(result.items), [None] * len(result.items)),
        model_version_id=state.model_version_id,
        weights=result.weights,
        unavailable=result.unavailable,
        failed=result.failed,
        parameters=_list_parameters(n=n, profile=profile),
    )


def recommendations_interleaved_for(
    *,
    user: User,
    n: int = 5,
    mood: str | None = None,
    activity: str | None = None,
    discovery: float | None = None,
    teams: tuple[Mapping[str, Any], Mapping[str, Any]],
    seed: str,
) -> RecommendationList:
    """Up to ``n`` recommendations drawn from two variants' lists by team-draft interleaving
    (``engine.experiments.team_draft_interleave``): each variant's list of ``n`` is computed as
    :func:`recommendations_for` computes one, and each item says which one picked it
    (``team``: 0 or 1). The draft's coin tosses are seeded by ``seed`` and the serving state's
    generations, so the same list comes back until something changes. ``weights`` and the
    list's ``discovery`` are team 0's."""
    state = serving_state()
    base = listener_profile(user=user, engine=state.engine, mood=mood, activity=activity)
    rankings = []
    for parameters in teams:
        chosen = _variant_discovery(user=user, discovery=discovery, variant=parameters)
        profile = replace(base, discovery=base.discovery if chosen is None else float(chosen))
        params = variant_params(state.params, parameters)
        ranked = recommend(profile, state.predictors, state.engine.catalog, n=n, params=params)
        rankings.append((profile, ranked))
    by_team = [{item.track: item for item in result.items} for _, result in rankings]
    digest = hashlib.sha256(f"{seed}:{state.key!r}".encode()).digest()
    drafted = team_draft_interleave(
        [item.track for item in rankings[0][1].items],
        [item.track for item in rankings[1][1].items],
        n,
        np.random.default_rng(int.from_bytes(digest[:8], "big")),
    )
    items = [by_team[team][track] for track, team in zip(drafted.items, drafted.teams, strict=True)]
    first_profile, first = rankings[0]
    return RecommendationList(
        items=_recommended_tracks(state, items, list(drafted.teams)),
        model_version_id=state.model_version_id,
        weights=first.weights,
        unavailable={**rankings[1][1].unavailable, **first.unavailable},
        failed={**rankings[1][1].failed, **first.failed},
        parameters=_list_parameters(n=n, profile=first_profile),
    )


def _variant_discovery(
    *, user: User, discovery: float | None, variant: Mapping[str, Any] | None
) -> float | None:
    """The request's discovery, else the variant's default for a listener whose own is still
    the field's default (never moved), else None (the listener's own)."""
    if discovery is not None or not variant or "discovery" not in variant:
        return discovery
    if user.discovery != User._meta.get_field("discovery").get_default():
        return None
    return float(variant["discovery"])


def _list_parameters(*, n: int, profile: ListenerProfile) -> dict[str, Any]:
    return {
        "n": n,
        "mood": profile.mood,
        "activity": profile.activity,
        "discovery": profile.discovery,
    }


def _recommended_tracks(
    state: ServingState, results: list[Any], teams: list[int | None]
) -> list[RecommendedTrack]:
    """The engine's ranked items as served tracks (loaded with their album, credits and
    genres; one deleted since the state was built is left out), with their reasons' text."""
    ids = state.engine.track_ids[[item.track for item in results]].tolist()
    tracks = {track.pk: track for track in Track.objects.with_related().filter(pk__in=ids)}
    items: list[RecommendedTrack] = []
    for item, track_id, team in zip(results, ids, teams, strict=True):
        track = tracks.get(track_id)
        if track is None:  # deleted since the state was built
            continue
        items.append(
            RecommendedTrack(
                track=track,
                position=len(items) + 1,
                score=item.score,
                confidence=item.confidence,
                sources=item.sources,
                reasons=[
                    {
                        "kind": reason.kind,
                        "source": reason.source,
                        "text": reason_text(reason, state.engine.catalog),
                    }
                    for reason in item.reasons
                ],
                team=team,
            )
        )
    return items


def loaded_predictors() -> Mapping[str, Predictor]:
    """The predictors of the current state (diagnostics and tests)."""
    return serving_state().predictors
