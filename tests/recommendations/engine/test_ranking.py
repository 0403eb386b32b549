"""Filters, context rules and variety, each on its own."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from recommendations.engine import ranking
from recommendations.engine.data import ListenerProfile
from tests.recommendations.engine.helpers import make_catalog

# --- filters ---------------------------------------------------------------------------------


def _filter_catalog():  # type: ignore[no-untyped-def]
    # eight tracks: track 3 in genre 1, track 4 by artist 9; the rest genre 0, own artist
    return make_catalog(
        artist=[0, 1, 2, 3, 9, 5, 6, 7], genres=[[0], [0], [0], [0, 1], [0], [0], [0], [0]]
    )


@pytest.mark.parametrize(
    ("profile", "rule", "dropped"),
    [
        (ListenerProfile(history=[1, 6]), "history", [1, 6]),
        (ListenerProfile(disliked=[2]), "disliked", [2]),
        (ListenerProfile(disliked_genres=[1]), "disliked_genre", [3]),
        (ListenerProfile(blocked_artists=[9]), "blocked_artist", [4]),
        (ListenerProfile(skipped_recently=[5, 7]), "skipped_recently", [5, 7]),
    ],
)
def test_each_filter_drops_its_tracks(profile, rule, dropped):  # type: ignore[no-untyped-def]
    # given every track as a candidate
    # when
    kept, by_rule = ranking.apply_filters(np.arange(8), profile, _filter_catalog())

    # then exactly those tracks are gone, the order of the rest kept
    assert by_rule[rule].tolist() == dropped
    assert kept.tolist() == [t for t in range(8) if t not in dropped]
    assert sum(len(v) for v in by_rule.values()) == len(dropped)


def test_filters_apply_in_order_and_count_a_track_once():
    # given track 1 in the history and disliked, track 3 skipped and in a disliked genre
    profile = ListenerProfile(
        history=[1], disliked=[1, 2], disliked_genres=[1], skipped_recently=[3]
    )

    # when
    kept, by_rule = ranking.apply_filters([3, 2, 1, 0], profile, _filter_catalog())

    # then
    assert kept.tolist() == [0]
    assert by_rule["history"].tolist() == [1]
    assert by_rule["disliked"].tolist() == [2]
    assert by_rule["disliked_genre"].tolist() == [3]
    assert by_rule["skipped_recently"].tolist() == []


# --- context rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "fits", "does_not_fit"),
    [
        ("exercise", {"energy": 0.9, "tempo": 170.0}, {"energy": 0.2, "tempo": 80.0}),
        ("relax", {"energy": 0.2, "acousticness": 0.9}, {"energy": 0.9, "acousticness": 0.1}),
        ("party", {"danceability": 0.9}, {"danceability": 0.2}),
        ("focus", {"instrumentalness": 0.9, "speechiness": 0.03}, {"speechiness": 0.6}),
        ("happy", {"valence": 0.9}, {"valence": 0.1}),
        ("sad", {"valence": 0.1}, {"valence": 0.9}),
        ("calm", {"energy": 0.1}, {"energy": 0.9}),
        ("energetic", {"energy": 0.9}, {"energy": 0.1}),
    ],
)
def test_each_context_rule_moves_the_fitting_track_up(context, fits, does_not_fit):  # type: ignore[no-untyped-def]
    # given two tracks with equal blended scores, the second fitting the context
    catalog = make_catalog(artist=[0, 1], features=[does_not_fit, fits])
    is_mood = context in {"happy", "sad", "calm", "energetic"}

    # when
    match = ranking.context_match(
        catalog, [0, 1], context if is_mood else None, None if is_mood else context
    )
    final = ranking.rerank_for_context([0.5, 0.5], match)

    # then
    assert match is not None
    assert match[1] > match[0]
    assert final[1] > final[0]
    assert ((match >= 0) & (match <= 1)).all()


def test_context_match_by_hand():
    # given energy 0.8 and tempo 150 BPM: (150 - 60) / 120 = 0.75; mood happy, valence 0.4
    catalog = make_catalog(artist=[0], features=[{"energy": 0.8, "tempo": 150.0, "valence": 0.4}])

    # when
    match = ranking.context_match(catalog, [0], "happy", "exercise")

    # then the mean of the three terms
    assert match is not None
    assert match[0] == pytest.approx((0.8 + 0.75 + 0.4) / 3)


def test_rerank_formula():
    # 0.7 * 0.5 + 0.3 * 1.0
    assert ranking.rerank_for_context([0.5], np.array([1.0]))[0] == pytest.approx(0.65)


def test_commute_and_no_context_leave_scores_alone():
    catalog = make_catalog(artist=[0])

    assert ranking.context_match(catalog, [0], None, "commute") is None
    assert ranking.context_match(catalog, [0], None, None) is None
    assert ranking.rerank_for_context([0.4], None).tolist() == [0.4]


def test_an_unknown_feature_is_neutral_and_an_unknown_context_refused():
    catalog = make_catalog(artist=[0], features=[{"danceability": np.nan}])

    match = ranking.context_match(catalog, [0], None, "party")
    assert match is not None
    assert match.tolist() == [0.5]
    with pytest.raises(ValueError, match="unknown context"):
        ranking.context_match(catalog, [0], None, "sleep")


# --- variety ---------------------------------------------------------------------------------


def _runs(artists: list[int]) -> int:
    longest = run = 1
    for previous, current in itertools.pairwise(artists):
        run = run + 1 if current == previous and current >= 0 else 1
        longest = max(longest, run)
    return longest


def test_no_more_than_three_in_a_row_when_every_top_candidate_is_one_artist():
    # given the eight best candidates by artist 0, two weaker ones by artists 1 and 2
    catalog = make_catalog(artist=[0] * 8 + [1, 2])
    scores = np.linspace(1.0, 0.5, 10)

    # when (the run rule alone: no artist limit)
    picked = ranking.diversify(np.arange(10), scores, catalog, 8, artist_limit=None)

    # then artist 0 is broken up after three, and its best tracks stay first
    artists = catalog.artist[picked].tolist()
    assert artists == [0, 0, 0, 1, 0, 0, 0, 2]
    assert _runs(artists) == 3


def test_a_list_of_one_artist_only_ends_after_three():
    catalog = make_catalog(artist=[4] * 6)

    picked = ranking.diversify(np.arange(6), np.ones(6), catalog, 5)

    # (the artist limit gives way, the run rule does not)
    assert len(picked) == 3


def test_tracks_of_an_unknown_artist_do_not_make_a_run():
    catalog = make_catalog(artist=[-1] * 5)

    assert len(ranking.diversify(np.arange(5), np.ones(5), catalog, 5)) == 5


def test_mmr_balances_genres():
    # given four pop tracks scoring 0.9 … 0.87 and one rock track at 0.8
    catalog = make_catalog(artist=[0, 1, 2, 3, 4], genres=[[0], [0], [0], [0], [1]])
    scores = np.array([0.9, 0.89, 0.88, 0.87, 0.8])

    # when
    picked = ranking.diversify(np.arange(5), scores, catalog, 3, relevance=0.8)

    # then after the first pop track: pop 0.8*0.89 - 0.2*1 = 0.512 < rock 0.8*0.8 = 0.64
    assert picked.tolist() == [0, 4, 1]


def test_without_the_genre_term_the_order_is_the_scores():
    catalog = make_catalog(artist=[0, 1, 2, 3, 4], genres=[[0], [0], [0], [0], [1]])
    scores = np.array([0.9, 0.89, 0.88, 0.87, 0.8])

    picked = ranking.diversify(np.arange(5), scores, catalog, 5, relevance=1.0)

    assert picked.tolist() == [0, 1, 2, 3, 4]


def _diversify_over_everything(
    tracks,
    scores,
    catalog,
    n,
    max_run,
    relevance,
    artist_limit=None,
    artist_window=10,
    allowance=None,
):
    """The greedy MMR over the whole pool, step by step as the docstring states it: the
    reference the windowed :func:`ranking.diversify` must equal."""
    genres = ranking.unit_rows(catalog.genres[tracks].toarray())
    artists = catalog.artist[tracks]
    available = np.ones(len(tracks), dtype=bool)
    similar = np.zeros(len(tracks))
    picked: list[int] = []
    while len(picked) < n and available.any():
        value = relevance * scores - (1 - relevance) * similar
        value[~available] = -np.inf
        run = artists[picked[-max_run:]]
        if len(picked) >= max_run and len(set(run.tolist())) == 1 and run[0] >= 0:
            value[artists == run[0]] = -np.inf
        if not np.isfinite(value).any():
            break
        limited = value.copy()
        if artist_limit is not None:
            recent = artists[picked][len(picked) - min(len(picked), artist_window - 1) :].tolist()
            for artist in set(recent):
                if artist >= 0 and recent.count(artist) >= (allowance or {}).get(
                    artist, artist_limit
                ):
                    limited[artists == artist] = -np.inf
        # the limit gives way when nothing else is left
        choice = int(np.argmax(limited if np.isfinite(limited).any() else value))
        picked.append(choice)
        available[choice] = False
        similar = np.maximum(similar, genres @ genres[choice])
    return tracks[picked].tolist()


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("relevance", [0.97, 0.8, 0.5])
@pytest.mark.parametrize(
    ("artist_limit", "artist_window", "allowance"),
    [(None, 10, None), (2, 10, None), (1, 4, None), (2, 10, {1: 5, 2: 3})],
)
def test_the_windowed_greedy_picks_what_the_whole_pool_would(
    monkeypatch, seed, relevance, artist_limit, artist_window, allowance
):
    # given pools with few artists (long runs to break), few genres and many tied scores, and
    # a first window of n only, so that it has to widen
    monkeypatch.setattr(ranking, "WINDOW_FACTOR", 1)
    rng = np.random.default_rng(seed)
    size = 400
    catalog = make_catalog(
        artist=rng.integers(-1, 4, size).tolist(),
        genres=[rng.choice(6, rng.integers(0, 3), replace=False).tolist() for _ in range(size)],
        n_genres=6,
    )
    tracks = rng.permutation(size)[:300]
    scores = np.round(rng.random(300), 1)  # ties
    scores[rng.random(300) < 0.2] = 1.0  # a block of equal top scores

    for n in (5, 60, 400):
        # when
        windowed = ranking.diversify(
            tracks,
            scores,
            catalog,
            n,
            relevance=relevance,
            artist_limit=artist_limit,
            artist_window=artist_window,
            artist_allowance=allowance,
        ).tolist()

        # then
        assert windowed == _diversify_over_everything(
            tracks, scores, catalog, n, 3, relevance, artist_limit, artist_window, allowance
        )


# --- discovery -------------------------------------------------------------------------------


def test_novelty_counts_plays_new_artists_and_distance_from_the_history():
    # given tracks 0-3: track 0 by the listener's artist, played most, proposed strongly
    catalog = make_catalog(artist=[0, 1, 1, -1], play_count=[99, 9, 0, 0])
    profile = ListenerProfile(history=[0])

    # when
    values = ranking.novelty(catalog, [0, 1, 2, 3], profile, closeness=[1.0, 0.5, 0.0, 0.0])

    # then: the familiar one is 0, the unplayed unknown-artist far one is 1
    assert values[0] == pytest.approx(0.0)
    assert values[2] == pytest.approx(1.0)
    assert values[3] == pytest.approx(1.0)
    assert 0.0 < values[1] < 1.0
    # nothing played at all: plays say nothing against anyone
    unplayed = make_catalog(artist=[0, 1], play_count=[0, 0])
    assert ranking.novelty(unplayed, [0, 1], profile, [0.0, 0.0]).tolist() == [2 / 3, 1.0]


def test_discovery_half_leaves_the_order_and_the_ends_move_it_both_ways():
    scores = np.array([0.8, 0.7, 0.6])
    novel = np.array([0.0, 0.5, 1.0])

    assert ranking.rerank_for_discovery(scores, novel, 0.5).tolist() == scores.tolist()
    towards_new = ranking.rerank_for_discovery(scores, novel, 1.0)
    towards_familiar = ranking.rerank_for_discovery(scores, novel, 0.0)
    assert np.argsort(-towards_new).tolist() == [2, 1, 0]
    assert np.argsort(-towards_familiar).tolist() == [0, 1, 2]
    assert towards_new[1] == pytest.approx(0.7)  # neutral novelty does not move


def test_a_profile_refuses_a_discovery_outside_zero_to_one():
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="discovery"):
            ListenerProfile(discovery=bad)
