"""Malformed requests get a clear 4xx, never a 500: NUL characters in query parameters, unknown
API URLs (JSON 404s, with DEBUG on or off)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/search/", "q=ab%00cd"),
        ("/api/v1/artists/", "name=%00"),
        ("/api/v1/tracks/", "spotify_id=a%00b"),
        ("/api/v1/tracks/", "genre=rock&ordering=%00"),
        ("/api/v1/interactions/", "kind=play%00"),
        ("/api/v1/tracks/", "%00=1"),
    ],
)
def test_a_nul_in_an_api_query_parameter_is_a_400_in_the_error_format(listener_api, path, query):
    # when
    response = listener_api.get(f"{path}?{query}")

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "null_character"
    assert "NUL" in body["error"]


@pytest.mark.parametrize(
    "url", ["/search/?q=ab%00cd", "/search/?q=abcd&page=%00", "/artists/1/?page=1%00"]
)
def test_a_nul_in_a_page_query_parameter_is_a_400_page_that_says_why(client, url):
    # when
    response = client.get(url)

    # then
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "NUL character" in response.content.decode()


def test_a_nul_in_the_admin_search_is_a_400(superuser_web):
    response = superuser_web.get("/admin/catalog/track/?q=ab%00cd")

    assert response.status_code == 400


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tracks/abc/",
        "/api/v1/no-such-thing/",
        "/api/v1/history/abc/",
        "/api/v2/tracks/",
        "/api/",
        "/api/v1/tracks/1/nothing/",
    ],
)
def test_every_unknown_api_url_is_a_json_404(api_client, settings, debug, path):
    # given
    settings.DEBUG = debug

    # when
    response = api_client.get(path)

    # then
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("debug", [False, True])
def test_an_api_url_without_its_slash_is_a_json_404_naming_the_right_one(
    api_client, settings, debug
):
    # given
    settings.DEBUG = debug

    # when: a POST could not follow a redirect with its body, so there is none
    response = api_client.post("/api/v1/history", {"track_id": 1}, format="json")

    # then
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["did_you_mean"] == "/api/v1/history/"


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_pages_outside_the_api_stay_html(client, settings, debug):
    settings.DEBUG = debug

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
