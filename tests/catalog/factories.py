"""Small catalog factories for tests that need tracks of their own."""

from __future__ import annotations

import factory
from django.utils.text import slugify

from catalog.models import Album, Artist, Genre, Track, TrackArtist
from catalog.services.search_documents import track_search_documents_refresh


class GenreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Genre
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"test-genre-{n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class ArtistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Artist
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Test Artist {n}")


class AlbumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Album

    name = factory.Sequence(lambda n: f"Test Album {n}")
    primary_artist = factory.SubFactory(ArtistFactory)


class TrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Track
        skip_postgeneration_save = True

    spotify_id = factory.Sequence(lambda n: f"TestTrack{n:013d}")
    title = factory.Sequence(lambda n: f"Test Track {n}")
    album = factory.SubFactory(AlbumFactory)
    duration_ms = 200_000
    popularity = 50
    danceability = 0.5
    energy = 0.5
    valence = 0.5
    acousticness = 0.5
    instrumentalness = 0.0
    speechiness = 0.05
    liveness = 0.1
    tempo = 120.0
    loudness = -6.0
    key = 0
    mode = 1
    time_signature = 4

    @factory.post_generation
    def artists(self, create: bool, extracted, **kwargs) -> None:
        if not create:
            return
        for position, artist in enumerate(extracted or [self.album.primary_artist]):
            TrackArtist.objects.create(track=self, artist=artist, position=position)

    @factory.post_generation
    def genres(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.genres.add(*extracted)
        if create:
            track_search_documents_refresh(track_ids=[self.pk])
