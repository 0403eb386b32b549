"""Server-rendered catalog pages."""

from __future__ import annotations

import pytest

from catalog.models import Artist, Genre, Track
from tests.catalog.factories import ArtistFactory, TrackFactory

pytestmark = pytest.mark.django_db


def test_home_has_search_box_popular_tracks_and_genres(client):
    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="q"' in html
    top = Track.objects.order_by("-popularity", "id").first()
    assert top.title in html
    assert 'href="/genres/k-pop/"' in html


def test_search_page_ranks_results(client):
    response = client.get("/search/", {"q": "bohemian rapsody"})

    tracks = response.context["tracks"]
    assert response.status_code == 200
    assert tracks[0].title == "Bohemian Rhapsody"
    assert "Bohemian Rhapsody" in response.content.decode()


@pytest.mark.parametrize("q", ["a", " "])
def test_search_page_short_query_shows_a_hint(client, q):
    response = client.get("/search/", {"q": q})

    assert response.status_code == 200
    assert "Type at least 2 characters to search." in response.content.decode()


def test_search_page_with_bad_page_number_does_not_fail(client):
    response = client.get("/search/", {"q": "love", "page": "abc"})

    assert response.status_code == 200
    assert response.context["page"].number == 1


def test_track_page_shows_features_links_and_spotify(client):
    track = Track.objects.filter(spotify_id__gt="", energy__isnull=False).first()

    response = client.get(f"/tracks/{track.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert f"https://open.spotify.com/track/{track.spotify_id}" in html
    assert "Energy" in html
    for artist in track.artists.all():
        assert f'href="/artists/{artist.pk}/"' in html
    for genre in track.genres.all():
        assert f'href="/genres/{genre.slug}/"' in html


def test_track_without_spotify_id_has_no_spotify_link(client):
    track = TrackFactory(spotify_id="")

    html = client.get(f"/tracks/{track.pk}/").content.decode()

    assert "Open in Spotify" not in html


def test_catalog_text_is_escaped(client):
    artist = ArtistFactory(name="<b>Bold</b> & Co")
    track = TrackFactory(title="<script>alert(1)</script>", artists=[artist])

    pages = [
        client.get(f"/tracks/{track.pk}/").content.decode(),
        client.get(f"/artists/{artist.pk}/").content.decode(),
        client.get("/search/", {"q": "script alert"}).content.decode(),
    ]

    for html in pages:
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Bold</b>" not in pages[1]


def test_artist_and_genre_pages(client):
    artist = Artist.objects.get(name="The Beatles")
    genre = Genre.objects.get(slug="k-pop")

    artist_page = client.get(f"/artists/{artist.pk}/")
    genre_page = client.get(f"/genres/{genre.slug}/")

    assert artist_page.status_code == 200
    assert "The Beatles" in artist_page.content.decode()
    assert genre_page.status_code == 200
    assert len(genre_page.context["page"].object_list) == 20


def test_missing_pages_are_friendly_404s(client):
    # unknown tracks and artists are the selectors' refusals, shown by the pages' error
    # middleware with their message
    for url, text in [
        ("/tracks/999999999/", "No track with this id."),
        ("/artists/999999999/", "No artist with this id."),
        ("/genres/no-such-genre/", "There is no page here."),
        ("/nope/", "There is no page here."),
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert text in response.content.decode(), url


def test_static_files_are_served_without_cdn(client):
    html = client.get("/").content.decode()
    css = client.get("/static/css/musicrec.css")

    assert "/static/css/musicrec.css" in html
    assert css.status_code == 200
    assert "http://" not in html.replace("http://127.0.0.1", "")
    assert "https://" not in html


def test_search_without_matches_says_so(client):
    response = client.get("/search/", {"q": "zzqxjv wkpfq"})

    assert response.status_code == 200
    assert "No tracks match “zzqxjv wkpfq”" in response.content.decode()


def test_track_page_names_key_mode_and_metre(client):
    track = TrackFactory(key=1, mode=0, time_signature=3)

    html = client.get(f"/tracks/{track.pk}/").content.decode()

    assert "C♯/D♭ minor" in html
    assert "3/4" in html


def test_the_api_reference_pages_load_nothing_from_a_cdn(client):
    for url in ("/api/docs/", "/api/redoc/"):
        html = client.get(url).content.decode()

        assert "googleapis" not in html
        assert "cdn." not in html
        assert "/static/" in html
