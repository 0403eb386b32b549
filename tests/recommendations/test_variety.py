"""The artist limit as the site serves it (``RECOMMENDER["ensemble"]["artist_limit"]`` /
``["artist_window"]``, read by ``selectors.params.recommender_params``): a new listener whose
list popularity leads no longer gets one artist's hits in half of their top 10."""

from __future__ import annotations

from collections import Counter

import pytest

from recommendations.selectors import serving
from tests.accounts.factories import UserFactory
from tests.catalog.factories import ArtistFactory, TrackFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_state():
    serving.serving_state_reset()
    yield
    serving.serving_state_reset()


@pytest.fixture
def hit_maker():  # type: ignore[no-untyped-def]
    """One artist with six tracks more popular than anything in the catalog, and one other
    artist's track among them (so a run of three is broken once and the run rule alone lets
    the artist back in)."""
    artist = ArtistFactory(name="Hit Maker")
    hits = [TrackFactory(artists=[artist], popularity=100) for _ in range(6)]
    TrackFactory(artists=[ArtistFactory(name="One Hit")], popularity=100)
    return artist, hits


def _top_artists(n: int = 10) -> list[int]:
    newcomer = UserFactory(age=None, country="", gender="", occupation="")
    result = serving.recommendations_for(user=newcomer, n=n)
    return [item.track.track_artists.all()[0].artist_id for item in result.items]


def test_a_new_listener_gets_at_most_two_tracks_of_one_artist_in_the_top_10(hit_maker):
    artist, _ = hit_maker

    artists = _top_artists()

    assert len(artists) == 10
    assert Counter(artists)[artist.pk] == 2
    assert artist.pk in artists[:3]  # its hits still lead (ties with the other artist's)
    assert max(Counter(artists).values()) == 2


def test_the_limit_is_the_sites_setting(hit_maker, settings):  # type: ignore[no-untyped-def]
    artist, _ = hit_maker
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "ensemble": {**settings.RECOMMENDER["ensemble"], "artist_limit": None},
    }

    artists = _top_artists()

    # without it only the run rule holds: the artist takes six of ten
    assert Counter(artists)[artist.pk] == 6
