"""Generated sequences (``engine.sequences``): radio, mood mix and the sonic path, on a random
catalog built from plain arrays."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine.content import content_vectors, standardised_features
from recommendations.engine.data import AUDIO_FEATURES, Catalog
from recommendations.engine.ranking import context_match
from recommendations.engine.sequences import (
    RADIO_MAX_RUN,
    Similarity,
    Space,
    Taste,
    allowed_tracks,
    max_artist_run,
    mean_step,
    mood_mix,
    path_progress,
    radio,
    sonic_path,
)

N = 3000
N_ARTISTS = 300
N_GENRES = 12


def _catalog(seed: int = 7) -> Catalog:
    rng = np.random.default_rng(seed)
    features = rng.random((N, len(AUDIO_FEATURES)))
    features[:, AUDIO_FEATURES.index("tempo")] = 60 + 120 * features[:, 7]
    features[:, AUDIO_FEATURES.index("loudness")] = -30 + 30 * features[:, 8]
    artist = rng.integers(0, N_ARTISTS, N)
    genre = rng.integers(0, N_GENRES, N)
    genres = sp.csr_matrix((np.ones(N), (np.arange(N), genre)), shape=(N, N_GENRES))
    return Catalog(artist=artist, genres=genres, features=features, play_count=np.ones(N))


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return _catalog()


@pytest.fixture(scope="module")
def similarity(catalog: Catalog) -> Similarity:
    rng = np.random.default_rng(3)
    collaborative = rng.normal(size=(N, 16)).astype(np.float32)
    collaborative[::10] = 0  # tracks without a collaborative vector
    return Similarity(
        content=Space(content_vectors(catalog).astype(np.float32)),
        collaborative=Space(collaborative),
    )


@pytest.fixture(scope="module")
def features(catalog: Catalog) -> np.ndarray:
    return standardised_features(catalog.features)


@pytest.fixture(scope="module")
def dense() -> tuple[Catalog, np.ndarray]:
    """A denser catalog (20,000 tracks; the full one has 90k) for how evenly a path moves."""
    rng = np.random.default_rng(11)
    n = 20_000
    raw = rng.random((n, len(AUDIO_FEATURES)))
    catalog = Catalog(
        artist=rng.integers(0, 2000, n),
        genres=sp.csr_matrix((n, 1)),
        features=raw,
        play_count=np.ones(n),
    )
    return catalog, standardised_features(raw)


def _everything(catalog: Catalog) -> np.ndarray:
    return np.ones(catalog.n_tracks, dtype=bool)


# --- allowed ----------------------------------------------------------------------------------


def test_allowed_leaves_out_disliked_tracks_genres_blocked_artists_and_excluded(catalog):
    credits = (np.array([5, 6]), np.array([299, 299]))  # track 6 co-credits artist 299

    allowed = allowed_tracks(
        catalog,
        disliked=[1, 2],
        disliked_genres=[3],
        blocked_artists=[catalog.artist[10], 299],
        credits=credits,
        excluded=[20],
    )

    assert not allowed[[1, 2, 20, 5, 6]].any()
    assert not allowed[np.asarray(catalog.genres[:, 3].toarray()).ravel() > 0].any()
    assert not allowed[catalog.artist == catalog.artist[10]].any()
    assert not allowed[catalog.artist == 299].any()
    assert allowed.sum() > N / 2  # the rest stays


# --- radio ------------------------------------------------------------------------------------


def test_radio_starts_with_its_seed_and_fills_the_length_with_distinct_tracks(catalog, similarity):
    tracks = radio(
        [42],
        50,
        catalog=catalog,
        similarity=similarity,
        allowed=_everything(catalog),
        rng=np.random.default_rng(1),
        first=42,
    )

    assert tracks[0] == 42
    assert len(tracks) == 50
    assert len(set(tracks.tolist())) == 50


def test_radio_never_plays_one_artist_more_than_twice_in_a_row(catalog, similarity):
    # an artist with many tracks, all close to the seed: the walk wants to stay with it
    few_artists = Catalog(
        artist=catalog.artist % 3,
        genres=catalog.genres,
        features=catalog.features,
        play_count=catalog.play_count,
    )
    for seed in range(5):
        tracks = radio(
            [seed],
            60,
            catalog=few_artists,
            similarity=similarity,
            allowed=_everything(catalog),
            rng=np.random.default_rng(seed),
            first=seed,
        )
        assert len(tracks) == 60
        assert max_artist_run(few_artists.artist[tracks]) <= RADIO_MAX_RUN


def test_radio_drifts_away_from_its_seed(catalog, similarity):
    """Later tracks are farther from the seed than early ones, on average over seeds."""
    early, late = [], []
    for seed in range(10):
        tracks = radio(
            [seed],
            40,
            catalog=catalog,
            similarity=similarity,
            allowed=_everything(catalog),
            rng=np.random.default_rng(seed),
            first=seed,
        )
        nearness = similarity.score(similarity.anchor(np.array([seed]), np.ones(1)), tracks[1:])
        early.append(nearness[:10].mean())
        late.append(nearness[-10:].mean())
        # each step stays close to the one before: a walk, not a jump
    assert np.mean(late) < np.mean(early) - 0.05


def test_radio_keeps_to_allowed_tracks(catalog, similarity):
    allowed = _everything(catalog)
    near = radio(
        [7],
        30,
        catalog=catalog,
        similarity=similarity,
        allowed=allowed,
        rng=np.random.default_rng(0),
    )
    allowed[near[:15]] = False  # what it would have picked first

    tracks = radio(
        [7],
        30,
        catalog=catalog,
        similarity=similarity,
        allowed=allowed,
        rng=np.random.default_rng(0),
        first=int(near[0]),  # a disallowed seed track is not played
    )

    assert len(tracks) == 30
    assert allowed[tracks].all()


def test_radio_returns_what_it_can_when_few_tracks_are_allowed(catalog, similarity):
    allowed = np.zeros(catalog.n_tracks, dtype=bool)
    allowed[:8] = True

    tracks = radio(
        [0],
        20,
        catalog=catalog,
        similarity=similarity,
        allowed=allowed,
        rng=np.random.default_rng(0),
        first=0,
    )

    assert set(tracks.tolist()) <= set(range(8))
    assert 6 <= len(tracks) <= 8  # the artist rule may leave one or two out, never padded


def test_radio_leans_to_the_listeners_taste(catalog, similarity):
    liked = np.arange(100, 140)
    taste = Taste(content=similarity.anchor(liked, np.ones(len(liked)))[0])
    kwargs = {
        "catalog": catalog,
        "similarity": similarity,
        "allowed": _everything(catalog),
        "first": 3,
    }

    plain = radio([3], 30, rng=np.random.default_rng(0), **kwargs)
    tasteful = radio([3], 30, rng=np.random.default_rng(0), taste=taste, **kwargs)

    assert taste.score(similarity, tasteful).mean() > taste.score(similarity, plain).mean()


def test_radio_is_deterministic_with_a_seed(catalog, similarity):
    def run(seed: int) -> list[int]:
        return radio(
            [11, 12],
            30,
            catalog=catalog,
            similarity=similarity,
            allowed=_everything(catalog),
            rng=np.random.default_rng(seed),
        ).tolist()

    assert run(5) == run(5)
    assert run(5) != run(6)


# --- mood mix ---------------------------------------------------------------------------------


def test_a_mood_mix_fits_its_context_better_than_the_catalog(catalog):
    tracks = mood_mix(
        40,
        catalog=catalog,
        mood="energetic",
        activity="exercise",
        allowed=_everything(catalog),
        rng=np.random.default_rng(0),
    )

    assert len(tracks) == 40 == len(set(tracks.tolist()))
    fit = context_match(catalog, tracks, "energetic", "exercise")
    everyone = context_match(catalog, np.arange(N), "energetic", "exercise")
    assert fit.mean() > np.quantile(everyone, 0.9)
    assert max_artist_run(catalog.artist[tracks]) <= RADIO_MAX_RUN
    assert len(set(np.asarray(catalog.genres[tracks].argmax(axis=1)).ravel())) > 3  # varied


def test_a_mood_mix_keeps_to_allowed_tracks_and_is_deterministic(catalog):
    allowed = _everything(catalog)
    allowed[::2] = False

    def run(seed: int) -> list[int]:
        return mood_mix(
            30,
            catalog=catalog,
            mood="calm",
            activity=None,
            allowed=allowed,
            rng=np.random.default_rng(seed),
        ).tolist()

    assert allowed[run(1)].all()
    assert run(1) == run(1)
    assert run(1) != run(2)


def test_an_unknown_mood_is_refused(catalog):
    with pytest.raises(ValueError, match="unknown context"):
        mood_mix(
            5,
            catalog=catalog,
            mood="furious",
            activity=None,
            allowed=_everything(catalog),
            rng=np.random.default_rng(0),
        )


# --- sonic path -------------------------------------------------------------------------------


def _ends(features: np.ndarray) -> tuple[int, int]:
    """Two tracks far apart in features (the path then has somewhere to go)."""
    first = int(np.argmin(features.sum(axis=1)))
    last = int(np.argmax(features.sum(axis=1)))
    return first, last


def test_a_sonic_path_starts_and_ends_at_the_chosen_tracks(catalog, features):
    start, end = _ends(features)

    path = sonic_path(
        features,
        start,
        end,
        20,
        allowed=_everything(catalog),
        rng=np.random.default_rng(0),
        artists=catalog.artist,
    )

    assert path[0] == start and path[-1] == end
    assert len(path) == 20 == len(set(path.tolist()))
    assert max_artist_run(catalog.artist[path]) <= RADIO_MAX_RUN


def test_a_sonic_paths_steps_are_smaller_than_a_random_orders_and_a_random_paths(catalog, features):
    start, end = _ends(features)
    rng = np.random.default_rng(0)
    path = sonic_path(
        features, start, end, 30, allowed=_everything(catalog), rng=np.random.default_rng(0)
    )

    steps = mean_step(features, path)
    shuffled = [mean_step(features, [start, *rng.permutation(path[1:-1]), end]) for _ in range(50)]
    others = np.setdiff1d(np.arange(N), [start, end])
    random_paths = [
        mean_step(features, [start, *rng.choice(others, 28, replace=False), end]) for _ in range(50)
    ]
    print(
        f"mean step: path {steps:.3f}, random order {np.mean(shuffled):.3f}, "
        f"random path {np.mean(random_paths):.3f}"
    )

    assert steps < min(shuffled)
    assert steps < 0.5 * np.mean(random_paths)


def test_a_sonic_paths_features_move_evenly_from_start_to_end(dense):
    catalog, features = dense
    start, end = _ends(features)

    path = sonic_path(
        features, start, end, 25, allowed=_everything(catalog), rng=np.random.default_rng(2)
    )
    progress = path_progress(features, path)

    assert progress[0] == 0 and progress[-1] == pytest.approx(1.0)
    # ~monotonic: a step goes back only when no track lies ahead (here the end is the
    # catalog's most extreme track: none lies between the last few targets and it)
    assert (np.diff(progress) >= 0).mean() >= 0.9
    even = np.linspace(0, 1, len(path))
    assert np.abs(progress - even).max() < 0.15  # and evenly: each near its target


def test_a_sonic_path_keeps_to_allowed_tracks_and_shortens_when_they_run_out(catalog, features):
    start, end = _ends(features)
    allowed = np.zeros(N, dtype=bool)
    allowed[:5] = True

    path = sonic_path(features, start, end, 20, allowed=allowed, rng=np.random.default_rng(0))

    assert path[0] == start and path[-1] == end
    assert set(path[1:-1].tolist()) <= set(range(5))
    assert len(path) == 7


def test_a_sonic_path_is_deterministic_with_a_seed(catalog, features):
    start, end = _ends(features)

    def run(seed: int) -> list[int]:
        return sonic_path(
            features, start, end, 40, allowed=_everything(catalog), rng=np.random.default_rng(seed)
        ).tolist()

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_a_path_leans_lightly_to_the_listeners_taste(catalog, features):
    start, end = _ends(features)
    taste = np.zeros(N)
    taste[catalog.artist < N_ARTISTS // 2] = 1.0  # they like half of the artists

    plain = sonic_path(
        features, start, end, 30, allowed=_everything(catalog), rng=np.random.default_rng(0)
    )
    tasteful = sonic_path(
        features,
        start,
        end,
        30,
        allowed=_everything(catalog),
        rng=np.random.default_rng(0),
        taste=lambda tracks: taste[tracks],
    )

    assert taste[tasteful[1:-1]].mean() > taste[plain[1:-1]].mean()
    assert mean_step(features, tasteful) < 1.5 * mean_step(features, plain)  # still smooth


def test_a_path_needs_two_different_ends(catalog, features):
    with pytest.raises(ValueError):
        sonic_path(features, 3, 3, 10, allowed=_everything(catalog), rng=np.random.default_rng())
