"""The artist limit of the variety step: a new listener whose list popularity leads was served
one artist 5 times in a top 10 (A A A B A A …: the run rule alone never broke it, and the genre
term hardly weighs at the tuned relevance). Now no artist takes more than ``artist_limit`` (2)
of any ``artist_window`` (10) consecutive places."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from recommendations.engine import ensemble, ranking
from recommendations.engine.data import ListenerProfile
from recommendations.engine.predictors import PopularityPredictor
from tests.recommendations.engine.helpers import make_catalog

#: One artist (0) holds five of the eight most trending tracks, never three in a row, all in
#: one genre with the rest: what the walk met with the demo catalog's biggest artist.
TOP_ARTISTS = [0, 0, 1, 0, 0, 2, 0, 3]


def _popular_world():  # type: ignore[no-untyped-def]
    artists = TOP_ARTISTS + list(range(4, 4 + 32))
    catalog = make_catalog(artist=artists, genres=[[0]] * len(artists))
    trending = np.linspace(100.0, 1.0, len(artists))
    return catalog, {"popularity": PopularityPredictor(catalog, trending=trending)}


def _most_of_one_artist(artists: list[int], window: int = 10) -> int:
    return max(
        max(Counter(a for a in artists[i : i + window] if a >= 0).values(), default=0)
        for i in range(max(1, len(artists) - window + 1))
    )


def test_without_the_limit_popularity_gives_one_artist_half_of_a_new_listeners_top_10():
    # given a new listener (nothing known: popularity alone) and the run rule only
    catalog, predictors = _popular_world()
    params = ensemble.EnsembleParams(artist_limit=None)

    # when
    result = ensemble.recommend(ListenerProfile(), predictors, catalog, n=10, params=params)

    # then the complaint: artist 0 five times, never more than three in a row
    artists = catalog.artist[[item.track for item in result.items]].tolist()
    assert Counter(artists)[0] == 5


def test_a_new_listeners_top_10_has_at_most_two_tracks_of_one_artist():
    # given the same listener with the default ensemble (the site's limit: 2 in 10)
    catalog, predictors = _popular_world()

    # when
    result = ensemble.recommend(ListenerProfile(), predictors, catalog, n=10)

    # then artist 0 keeps its two best tracks, first; the places it gave up go to the next
    # most trending tracks, in order
    tracks = [item.track for item in result.items]
    artists = catalog.artist[tracks].tolist()
    assert len(tracks) == 10
    assert Counter(artists)[0] == 2
    assert tracks[:2] == [0, 1]
    assert tracks == [0, 1, 2, 5, 7, *range(8, 13)]


def test_the_limit_holds_in_every_window_of_a_long_list():
    # given one artist on every other place of the ranking, 80 candidates
    catalog = make_catalog(artist=[0 if t % 2 == 0 else t for t in range(80)])
    scores = np.linspace(1.0, 0.0, 80)

    # when a list of 40 is picked
    picked = ranking.diversify(np.arange(80), scores, catalog, 40, relevance=1.0)

    # then every 10 consecutive places hold at most two of artist 0, and it comes back as
    # soon as the window allows it
    artists = catalog.artist[picked].tolist()
    assert _most_of_one_artist(artists) == 2
    assert Counter(artists)[0] == 8
    assert artists[:2] == [0, 1] and picked[0] == 0


def test_a_shorter_list_is_the_prefix_of_a_longer_one():
    # (the evaluation reads a list of 10 as the first 10 of 50)
    rng = np.random.default_rng(3)
    catalog = make_catalog(
        artist=rng.integers(0, 5, 200).tolist(),
        genres=[[int(g)] for g in rng.integers(0, 4, 200)],
    )
    scores = rng.random(200)

    long = ranking.diversify(np.arange(200), scores, catalog, 50, relevance=0.97)
    short = ranking.diversify(np.arange(200), scores, catalog, 10, relevance=0.97)

    assert short.tolist() == long[:10].tolist()
    assert _most_of_one_artist(catalog.artist[long].tolist()) == 2


def test_the_limit_gives_way_rather_than_end_the_list_early():
    # given eight tracks of artist 0 and one of artist 1: the limit cannot hold for five
    catalog = make_catalog(artist=[0] * 8 + [1])
    scores = np.linspace(1.0, 0.5, 9)

    # when
    picked = ranking.diversify(np.arange(9), scores, catalog, 5)

    # then the list is full: artist 1 as soon as the limit asks, then artist 0 again (its run
    # rule still holds: no fourth in a row)
    assert catalog.artist[picked].tolist() == [0, 0, 1, 0, 0]


def test_tracks_of_an_unknown_artist_are_not_limited():
    catalog = make_catalog(artist=[-1] * 6 + [1])

    picked = ranking.diversify(np.arange(7), np.linspace(1.0, 0.5, 7), catalog, 6)

    assert picked.tolist() == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize(("limit", "window"), [(0, 10), (2, 0), (-1, 5)])
def test_a_limit_or_window_below_one_is_refused(limit: int, window: int) -> None:
    catalog = make_catalog(artist=[0, 1])

    with pytest.raises(ValueError, match="artist_limit"):
        ranking.diversify(
            np.arange(2), np.ones(2), catalog, 2, artist_limit=limit, artist_window=window
        )
