"""The artist limit of the variety step: a new listener whose list popularity leads was served
one artist 5 times in a top 10 (A A A B A A …: the run rule alone never broke it, and the genre
term hardly weighs at the tuned relevance). Now no artist takes more than ``artist_limit`` (2)
of any ``artist_window`` (10) consecutive places, unless the listener's own tracks give it more
(``artist_allowance``)."""

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


# --- what the listener's own tracks allow ----------------------------------------------------


def test_the_listeners_own_tracks_give_an_artist_more_places():
    # given a history of 10 tracks: 6 by artist 0, 1 by artist 1, 3 by others
    catalog = make_catalog(artist=[0] * 6 + [1, 2, 3, 4] + [0] * 20 + [1] * 20)
    profile = ListenerProfile(history=list(range(10)))

    allowance = ranking.artist_allowance(profile, catalog)

    # then artist 0 gets ceil(10 * 6 / (10 + 5)) = 4 places in 10; artist 1 (1 track) nothing
    # above the limit of 2
    assert allowance == {0: 4}
    # a like counts as the history does; the prior is a knob
    liked = ListenerProfile(history=list(range(10)), liked=[10, 11])
    assert ranking.artist_allowance(liked, catalog) == {0: 5}  # 8 of 12 + 5
    assert ranking.artist_allowance(profile, catalog, prior=0.0) == {0: 6}


def test_a_track_or_two_of_an_artist_give_it_little_or_nothing_more():
    catalog = make_catalog(artist=[0, 0, 1, 2, 3, 4, 5, 6, 7, 8] + [0] * 10)

    # one track (a new listener who added one): nothing above the limit
    assert ranking.artist_allowance(ListenerProfile(history=[0]), catalog) == {}
    assert ranking.artist_allowance(ListenerProfile(), catalog) == {}
    # two of ten: ceil(10 * 2 / 15) = 2, the limit
    assert ranking.artist_allowance(ListenerProfile(history=list(range(10))), catalog) == {}
    # a whole history of two tracks of one artist: ceil(10 * 2 / 7) = 3
    assert ranking.artist_allowance(ListenerProfile(history=[0, 1]), catalog) == {0: 3}


def test_an_allowed_artist_keeps_its_places_and_the_others_keep_the_limit():
    # given artists 0 and 1 alternating at the top of the ranking, then one track each of others
    catalog = make_catalog(artist=[0, 1] * 10 + list(range(2, 22)))
    scores = np.linspace(1.0, 0.0, 40)

    # when artist 0 is allowed four places in ten
    picked = ranking.diversify(
        np.arange(40), scores, catalog, 10, relevance=1.0, artist_allowance={0: 4}
    )

    artists = catalog.artist[picked].tolist()
    assert Counter(artists)[0] == 4
    assert Counter(artists)[1] == 2


def test_a_listener_who_plays_one_artist_keeps_it_in_their_list():
    # given a listener whose history is all one artist's, and a source that proposes that
    # artist's other tracks first
    catalog, _ = _popular_world()
    profile = ListenerProfile(history=[0, 1, 3])  # three tracks of artist 0 (of five)
    scores = np.linspace(1.0, 0.5, catalog.n_tracks)

    allowance = ranking.artist_allowance(profile, catalog)
    picked = ranking.diversify(
        np.arange(catalog.n_tracks), scores, catalog, 10, artist_allowance=allowance
    )

    # then ceil(10 * 3 / 8) = 4 places for it, not 2
    assert allowance == {0: 4}
    assert Counter(catalog.artist[picked].tolist())[0] == 4
