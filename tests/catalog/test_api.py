"""The catalog API: filters, ordering, pagination, errors, search, schema."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.api.filters import TrackFilter
from catalog.models import Artist, Genre, Track
from tests.catalog.factories import ArtistFactory, GenreFactory, TrackFactory

pytestmark = pytest.mark.django_db


def test_track_list_is_paginated_with_track_shape(api_client):
    response = api_client.get("/api/v1/tracks/", {"page_size": 5})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == Track.objects.count()
    assert len(body["results"]) == 5
    track = body["results"][0]
    assert set(track) >= {
        "id", "spotify_id", "title", "artists", "album", "genres", "duration_ms",
        "popularity", "explicit", "release_year", "audio_features", "spotify_url",
    }  # fmt: skip
    assert set(track["audio_features"]) >= {"danceability", "energy", "tempo", "loudness", "key"}
    # default order: most popular first
    pops = [t["popularity"] for t in body["results"]]
    assert pops == sorted(pops, reverse=True)


def test_track_list_query_count_does_not_grow_with_page_size(api_client):
    with CaptureQueriesContext(connection) as small:
        assert api_client.get("/api/v1/tracks/", {"page_size": 2}).status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert api_client.get("/api/v1/tracks/", {"page_size": 100}).status_code == 200

    assert len(small) == len(large) <= 5


def test_filter_by_genre_slug_and_id(api_client):
    genre = Genre.objects.get(slug="k-pop")

    by_slug = api_client.get("/api/v1/tracks/", {"genre": "k-pop", "page_size": 100}).json()
    by_id = api_client.get("/api/v1/tracks/", {"genre": genre.pk, "page_size": 100}).json()

    assert by_slug["count"] == genre.tracks.count() == by_id["count"] > 0
    assert all("k-pop" in [g["slug"] for g in t["genres"]] for t in by_slug["results"])


def test_filter_by_artist_explicit_and_feature_ranges(api_client):
    artist = ArtistFactory(name="Filter Artist")
    TrackFactory(artists=[artist], energy=0.9, explicit=True, release_year=1999, title="Loud")
    TrackFactory(artists=[artist], energy=0.2, explicit=False, release_year=2010, title="Quiet")

    def titles(**params):
        response = api_client.get("/api/v1/tracks/", {"artist": artist.pk, **params})
        assert response.status_code == 200
        return sorted(t["title"] for t in response.json()["results"])

    assert titles() == ["Loud", "Quiet"]
    assert titles(energy_min=0.8) == ["Loud"]
    assert titles(energy_max=0.5) == ["Quiet"]
    assert titles(explicit="true") == ["Loud"]
    assert titles(year_min=2000) == ["Quiet"]
    assert titles(year_max=2000, energy_min=0.1) == ["Loud"]


def test_ordering(api_client):
    response = api_client.get("/api/v1/tracks/", {"ordering": "tempo", "page_size": 20})

    tempos = [t["audio_features"]["tempo"] for t in response.json()["results"]]
    assert tempos == sorted(tempos)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "password"}, "ordering"),
        ({"energy_min": "loud"}, "energy_min"),
        ({"year_min": "abc"}, "year_min"),
        ({"year_max": "1e3"}, "year_max"),
        ({"popularity_max": "101"}, "popularity_max"),
        ({"tempo_min": "1e999"}, "tempo_min"),
        ({"tempo_max": "-1e999"}, "tempo_max"),
        ({"loudness_min": "nan"}, "loudness_min"),
        ({"loudness_max": "-70.5"}, "loudness_max"),
        ({"danceability_min": "1.01"}, "danceability_min"),
        ({"key_min": "0.5"}, "key_min"),
        ({"duration_ms_min": "-1"}, "duration_ms_min"),
        ({"explicit": "maybe"}, "explicit"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "abc"}, "page_size"),
        ({"page_size": "1000"}, "page_size"),
        ({"page": "-1"}, "page"),
        ({"artist": "x"}, "artist"),
        ({"artist": "1e999"}, "artist"),
        ({"album": str(2**64)}, "album"),
        # what Python's int() and float() read but the schema's integer and number do not
        ({"year_min": " 1990"}, "year_min"),
        ({"year_min": "1_990"}, "year_min"),
        ({"year_min": "١٩٩٠"}, "year_min"),
        ({"year_min": "1990.0"}, "year_min"),
        ({"energy_min": "0_5"}, "energy_min"),
        ({"energy_min": " 0.5"}, "energy_min"),
        ({"page": "last"}, "page"),
        ({"page": " 2"}, "page"),
        # a parameter given without a value is not "no filter": no schema type is empty
        ({"year_min": ""}, "year_min"),
        ({"energy_max": ""}, "energy_max"),
        ({"explicit": ""}, "explicit"),
        ({"genre": ""}, "genre"),
        ({"spotify_id": ""}, "spotify_id"),
        # ordering: known fields only, nothing else between the commas
        ({"ordering": ""}, "ordering"),
        ({"ordering": "tempo,"}, "ordering"),
        ({"ordering": "tempo, -id"}, "ordering"),
        ({"ordering": "--tempo"}, "ordering"),
    ],
)
def test_bad_query_parameters_are_400_keyed_by_the_parameter(api_client, params, field):
    response = api_client.get("/api/v1/tracks/", params)

    assert response.status_code == 400
    assert set(response.json()) == {field}


def test_range_limits_are_inclusive_and_loudness_may_be_negative(api_client):
    # given
    TrackFactory(title="Range Edge", tempo=300.0, loudness=-5.25, popularity=100)

    # when
    response = api_client.get(
        "/api/v1/tracks/",
        {"tempo_min": "300", "loudness_min": "-5.25", "loudness_max": "-5.2"},
    )

    # then
    assert response.status_code == 200
    assert [t["title"] for t in response.json()["results"]] == ["Range Edge"]


def test_page_past_the_end_is_404_in_error_format(api_client):
    response = api_client.get("/api/v1/tracks/", {"page": 100000})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_track_detail_and_missing_track(api_client):
    track = Track.objects.filter(spotify_id__gt="").first()

    ok = api_client.get(f"/api/v1/tracks/{track.pk}/")
    missing = api_client.get("/api/v1/tracks/999999999/")
    malformed = api_client.get("/api/v1/tracks/abc/")

    assert ok.status_code == 200
    assert ok.json()["spotify_url"] == f"https://open.spotify.com/track/{track.spotify_id}"
    assert missing.status_code == 404
    assert missing.json() == {"error": "No track with this id.", "code": "not_found"}
    assert malformed.status_code == 404
    assert malformed.json()["code"] == "not_found"


def test_unknown_api_path_is_json_404(api_client):
    response = api_client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"error": "Not found.", "code": "not_found"}


def test_writes_are_not_allowed_on_catalog(api_client, user):
    api_client.force_authenticate(user)

    response = api_client.post("/api/v1/tracks/", {"title": "x"}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_artists_list_detail_and_genres(api_client):
    beatles = Artist.objects.get(name="The Beatles")

    listing = api_client.get("/api/v1/artists/", {"name": "beatles"}).json()
    detail = api_client.get(f"/api/v1/artists/{beatles.pk}/").json()
    genres = api_client.get("/api/v1/genres/").json()

    assert [a["name"] for a in listing["results"]] == ["The Beatles"]
    assert detail["track_count"] == beatles.track_credits.count() > 0
    assert len(detail["top_tracks"]) == 10
    assert detail["genres"]
    assert len(genres) == Genre.objects.count() >= 114
    assert {"id", "name", "slug", "track_count"} <= set(genres[0])
    assert api_client.get("/api/v1/artists/0/").status_code == 404


# --------------------------------------------------------------------------- search


def _search(api_client, q, **params):
    response = api_client.get("/api/v1/search/", {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_search_typo_finds_the_beatles(api_client):
    body = _search(api_client, "beatels")

    top = body["results"][:5]
    assert top
    assert all("The Beatles" in [a["name"] for a in t["artists"]] for t in top)
    assert body["recommendation"] is None


def test_search_typo_puts_bohemian_rhapsody_first(api_client):
    body = _search(api_client, "bohemian rapsody")

    assert body["results"][0]["title"] == "Bohemian Rhapsody"
    assert body["results"][0]["artists"][0]["name"] == "Queen"


def test_search_is_accent_insensitive(api_client):
    GenreFactory(name="test-accents")
    TrackFactory(title="Café Olé Searchable", genres=[Genre.objects.get(slug="test-accents")])

    body = _search(api_client, "cafe ole searchable")

    assert body["results"][0]["title"] == "Café Olé Searchable"


def test_search_finds_non_latin_titles(api_client):
    hangul = Track.objects.filter(title__regex=r"[가-힣]").order_by("-popularity").first()
    kana = Track.objects.filter(title__regex=r"[ぁ-ヿ]").order_by("-popularity").first()
    assert hangul and kana

    for track in (hangul, kana):
        body = _search(api_client, track.title)
        assert track.pk in [t["id"] for t in body["results"][:5]], track.title


def test_search_by_genre_and_album_words(api_client):
    body = _search(api_client, "k-pop")

    assert body["count"] > 0
    assert "k-pop" in [g["slug"] for g in body["results"][0]["genres"]]


def test_search_pagination(api_client):
    first = _search(api_client, "love", page_size=5)
    second = _search(api_client, "love", page_size=5, page=2)

    assert first["count"] > 10
    assert len(first["results"]) == 5
    assert first["next"] and "page=2" in first["next"]
    assert not {t["id"] for t in first["results"]} & {t["id"] for t in second["results"]}


@pytest.mark.parametrize("q", ["", " ", "a", "x" * 201])
def test_search_rejects_empty_short_and_long_queries(api_client, q):
    response = api_client.get("/api/v1/search/", {"q": q})

    assert response.status_code == 400
    assert response.json()["code"] in {"query_too_short", "query_too_long"}


def test_search_with_no_match_is_empty_not_an_error(api_client):
    body = _search(api_client, "zzqxjv wkpfq")

    assert body["count"] == 0
    assert body["results"] == []


def test_search_survives_tsquery_syntax_in_the_query(api_client):
    for q in ["rock & roll", "'quoted'", "a:*b", "(!love)", "back\\slash", "100% pure_"]:
        assert api_client.get("/api/v1/search/", {"q": q}).status_code == 200, q


# --------------------------------------------------------------------------- schema and docs


def test_openapi_schema_and_docs_without_cdn(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert "/api/v1/search/" in schema.json()["paths"]
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert "//unpkg" not in html


@pytest.mark.parametrize("value", ["²", "rock,²", "a\x01b", "rock,,pop", "k pop", "x" * 101])
def test_a_genre_filter_that_is_no_id_or_slug_is_a_400_naming_it(api_client, value):
    # when
    response = api_client.get("/api/v1/tracks/", {"genre": value})

    # then
    assert response.status_code == 400
    assert list(response.json()) == ["genre"]
    assert "not a genre id or slug" in response.json()["genre"][0]


@pytest.mark.parametrize("value", ["no-such-genre", str(2**70), "rock,no-such-genre", "0"])
def test_a_genre_that_does_not_exist_is_a_404_naming_it(api_client, value):
    # when
    response = api_client.get("/api/v1/tracks/", {"genre": value})

    # then: a well-formed reference to nothing, like a track id of no track
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "unknown_genre"
    assert body["parameter"] == "genre"
    assert body["unknown"] == [part for part in value.split(",") if part != "rock"]


def test_genre_filter_takes_a_comma_separated_mix_of_ids_and_slugs(api_client):
    # given
    kpop, jazz = Genre.objects.get(slug="k-pop"), Genre.objects.get(slug="jazz")

    # when
    body = api_client.get(
        "/api/v1/tracks/", {"genre": f"k-pop, {jazz.pk}", "page_size": 100}
    ).json()

    # then
    assert body["count"] == Track.objects.filter(genres__in=[kpop, jazz]).distinct().count() > 0


# ------------------------------------------------------------------- the schema tells the truth


@pytest.fixture
def openapi(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _parameters(openapi, path, method="get"):
    return {p["name"]: p for p in openapi["paths"][path][method].get("parameters", [])}


def _responses(openapi, path, method="get"):
    return set(openapi["paths"][path][method]["responses"])


def test_every_track_filter_is_documented_with_its_real_type_and_range(openapi):
    parameters = _parameters(openapi, "/api/v1/tracks/")

    assert set(TrackFilter.base_filters) | {"ordering", "page", "page_size"} == set(parameters)
    assert parameters["year_min"]["schema"] == {"type": "integer", "minimum": 1860, "maximum": 2100}
    assert parameters["popularity_max"]["schema"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 100,
    }
    assert parameters["energy_min"]["schema"] == {
        "type": "number",
        "format": "double",
        "minimum": 0.0,
        "maximum": 1.0,
    }
    assert parameters["loudness_max"]["schema"]["minimum"] == -70.0
    assert parameters["artist"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    assert parameters["explicit"]["schema"] == {
        "type": "string",
        "enum": ["true", "false", "1", "0"],
    }
    genre = parameters["genre"]
    assert (genre["style"], genre["explode"]) == ("form", False)
    assert genre["schema"]["type"] == "array"
    assert (genre["schema"]["minItems"], genre["schema"]["maxItems"]) == (1, 50)
    assert genre["schema"]["items"]["maxLength"] == 100
    assert parameters["spotify_id"]["schema"]["pattern"] == "^[^\\u0000]*$"
    ordering = parameters["ordering"]
    assert ordering["explode"] is False
    assert {"tempo", "-tempo", "popularity", "-id"} <= set(ordering["schema"]["items"]["enum"])
    assert parameters["page"]["schema"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}


def test_every_status_of_the_catalog_reads_is_documented(openapi):
    assert _responses(openapi, "/api/v1/tracks/") >= {"200", "400", "401", "404", "429"}
    assert _responses(openapi, "/api/v1/artists/") >= {"200", "400", "401", "404", "429"}
    assert _responses(openapi, "/api/v1/search/") >= {"200", "400", "401", "404", "429"}
    assert _responses(openapi, "/api/v1/tracks/{id}/") >= {"200", "401", "404", "429"}
    assert _responses(openapi, "/api/v1/artists/{id}/") >= {"200", "401", "404", "429"}
    assert _responses(openapi, "/api/v1/genres/") >= {"200", "401", "429"}
    track_list = openapi["paths"]["/api/v1/tracks/"]["get"]["responses"]
    page = track_list["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    envelope = openapi["components"]["schemas"][page]
    assert set(envelope["required"]) == {"count", "next", "previous", "results"}


@pytest.mark.parametrize("path", ["/api/v1/tracks/{id}/", "/api/v1/artists/{id}/"])
def test_object_ids_in_paths_are_positive_bigints(openapi, path):
    assert _parameters(openapi, path)["id"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**63 - 1,
    }


def test_search_documents_q_as_required_text_of_two_to_two_hundred_characters(openapi):
    q = _parameters(openapi, "/api/v1/search/")["q"]

    assert q["required"] is True
    assert (q["schema"]["minLength"], q["schema"]["maxLength"]) == (2, 200)
    pattern = re.compile(q["schema"]["pattern"])
    assert pattern.search("ab") and pattern.search(" a b ") and pattern.search("日本")
    assert not pattern.search("a   ") and not pattern.search("  ") and not pattern.search("a\x00b")


def _in_range(schema, value):
    return schema["minimum"] <= value <= schema["maximum"]


def test_every_range_filter_takes_its_documented_bounds_and_refuses_beyond(listener_api, openapi):
    """A value the schema allows is accepted and one it forbids refused, for each bound of
    each integer and number parameter of the track list (signed in: the anonymous rate would
    run out)."""
    api_client = listener_api
    parameters = _parameters(openapi, "/api/v1/tracks/")
    for name, parameter in parameters.items():
        schema = parameter["schema"]
        if schema.get("type") not in ("integer", "number") or name.startswith("page"):
            continue
        step = 1 if schema["type"] == "integer" else 0.001
        for value in (schema["minimum"], schema["maximum"]):
            assert api_client.get("/api/v1/tracks/", {name: value}).status_code == 200, name
        for value in (schema["minimum"] - step, schema["maximum"] + step):
            assert not _in_range(schema, value)
            response = api_client.get("/api/v1/tracks/", {name: value})
            assert response.status_code == 400, (name, value)
            assert list(response.json()) == [name]


def test_search_takes_what_its_schema_allows_and_refuses_the_rest(api_client):
    # two characters that are not spaces, however many spaces there are
    assert api_client.get("/api/v1/search/", {"q": " a  b "}).status_code == 200
    assert api_client.get("/api/v1/search/", {"q": "x" * 200}).status_code == 200
    # 200 characters as typed: runs of spaces count, as the schema's maxLength says
    response = api_client.get("/api/v1/search/", {"q": "a" + " " * 199 + "b"})
    assert response.status_code == 400
    assert response.json()["code"] == "query_too_long"


def test_ordering_by_several_fields_each_way(api_client):
    response = api_client.get("/api/v1/tracks/", {"ordering": "-release_year,title,-id"})

    assert response.status_code == 200
    years = [t["release_year"] or 0 for t in response.json()["results"]]
    assert years == sorted(years, reverse=True)


@pytest.mark.parametrize("component", ["Track", "Album", "Artist", "ArtistDetail", "Genre"])
def test_answers_mark_every_key_they_always_send_as_required(openapi, component):
    schema = openapi["components"]["schemas"][component]

    assert set(schema["required"]) == set(schema["properties"])


def test_genres_may_also_come_as_a_repeated_parameter(api_client):
    kpop, jazz = Genre.objects.get(slug="k-pop"), Genre.objects.get(slug="jazz")

    response = api_client.get(f"/api/v1/tracks/?genre=k-pop&genre={jazz.pk}&page_size=1")

    assert response.status_code == 200
    assert response.json()["count"] == (
        Track.objects.filter(genres__in=[kpop, jazz]).distinct().count()
    )
