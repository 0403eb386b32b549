"""The catalog as the engine reads it: id maps, first artist, genres, albums, play counts."""

from __future__ import annotations

import numpy as np
import pytest

from catalog.models import Track
from history.models import HistoryEntry, Interaction, Opinion
from recommendations.selectors.catalog import engine_catalog
from tests.catalog.factories import AlbumFactory, ArtistFactory, GenreFactory, TrackFactory

pytestmark = pytest.mark.django_db


def test_engine_catalog_maps_ids_artists_genres_albums_and_play_counts(listener, other_listener):
    rock, jazz = GenreFactory(name="rock"), GenreFactory(name="jazz")
    lead, guest = ArtistFactory(name="Lead"), ArtistFactory(name="Guest")
    album = AlbumFactory(primary_artist=lead)
    first = TrackFactory(album=album, artists=[lead, guest], genres=[rock, jazz], energy=0.9)
    second = TrackFactory(album=album, artists=[guest], genres=[jazz], tempo=None)
    third = TrackFactory(artists=[lead])
    Interaction.objects.create(user=listener, track=first, kind="play")
    Interaction.objects.create(user=listener, track=first, kind="like")
    Interaction.objects.create(user=other_listener, track=first, kind="skip")
    HistoryEntry.objects.create(user=other_listener, track=first, slot=1)
    HistoryEntry.objects.create(user=other_listener, track=second, slot=2)
    # a current like counts; a like event in the log alone (since undone) does not
    Opinion.objects.create(user=other_listener, track=third, value=Opinion.Value.LIKE)
    Interaction.objects.create(user=listener, track=second, kind="like")

    loaded = engine_catalog()

    assert loaded.track_ids.tolist() == sorted(Track.objects.values_list("pk", flat=True))
    i, j, k = loaded.indices([first.pk, second.pk, third.pk])
    assert loaded.track_ids[[i, j, k]].tolist() == [first.pk, second.pk, third.pk]
    assert loaded.indices([0]).tolist() == [-1]
    catalog = loaded.catalog
    names = list(catalog.artist_names)
    assert names[catalog.artist[i]] == "Lead"  # position 0 speaks for the track
    assert names[catalog.artist[j]] == "Guest"
    assert names[catalog.artist[k]] == "Lead"
    genre_names = list(catalog.genre_names)
    assert sorted(genre_names[g] for g in catalog.genres[i].indices) == ["jazz", "rock"]
    assert catalog.feature("energy")[i] == pytest.approx(0.9)
    assert np.isnan(catalog.feature("tempo")[j])
    # two listeners played the first (skips do not count), one had the second in history,
    # one likes the third
    assert (catalog.play_count[i], catalog.play_count[j], catalog.play_count[k]) == (2, 1, 1)
    artist = loaded.memberships["artist"]
    credited = sorted(
        (int(t), names[g])
        for t, g in zip(artist.track, artist.group, strict=True)
        if t in (i, j, k)
    )
    assert credited == sorted(
        [(int(i), "Lead"), (int(i), "Guest"), (int(j), "Guest"), (int(k), "Lead")]
    )
    albums = loaded.memberships["album"]
    album_of = dict(zip(albums.track.tolist(), albums.group.tolist(), strict=True))
    assert album_of[i] == album_of[j] != album_of[k]
    assert loaded.genre_indices([rock.pk, 10**9]).tolist() == [genre_names.index("rock")]


def test_an_empty_catalog_loads_as_empty_arrays():
    Track.objects.all().delete()
    loaded = engine_catalog()
    assert loaded.n_tracks == 0
    assert loaded.catalog.n_tracks == 0
