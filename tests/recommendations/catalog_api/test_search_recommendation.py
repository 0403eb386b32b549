"""GET /api/v1/search/'s ``recommendation``: the result of the page that fits the signed-in
listener best (the engine restricted to the results), with its reason; null when anonymous or
when nothing fits. The catalog asks through ``registry.search_recommenders``."""

from __future__ import annotations

import logging

import pytest

from accounts.services import artist_block
from catalog.models import Artist
from catalog.selectors import search_recommendation
from musicrec import registry
from recommendations.selectors import serving

pytestmark = pytest.mark.django_db

URL = "/api/v1/search/"


@pytest.fixture(autouse=True)
def _fresh_state():
    serving.serving_state_reset()
    yield
    serving.serving_state_reset()


def _search(client, q: str, **params):
    response = client.get(URL, {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_a_listener_gets_one_of_the_results_with_its_reason(listener_api):
    body = _search(listener_api, "beatles")

    recommendation = body["recommendation"]
    assert recommendation is not None
    assert recommendation["id"] in [track["id"] for track in body["results"]]
    assert recommendation["reason"]
    # the track as the results show it, plus the reason
    shown = next(track for track in body["results"] if track["id"] == recommendation["id"])
    assert {k: v for k, v in recommendation.items() if k != "reason"} == shown


def test_a_visitor_gets_null(api_client):
    body = _search(api_client, "beatles")

    assert body["results"] and body["recommendation"] is None


def test_it_is_drawn_from_the_page_asked_for(listener_api):
    body = _search(listener_api, "love", page=2, page_size=5)

    assert body["recommendation"]["id"] in [track["id"] for track in body["results"]]


def test_a_blocked_artist_is_never_the_recommendation(listener, listener_api):
    # given a search whose results are all one artist's, and that artist blocked
    body = _search(listener_api, "beatles", page_size=5)
    artists = {a["id"] for track in body["results"] for a in track["artists"]}
    beatles = Artist.objects.get(name="The Beatles")
    assert artists == {beatles.pk}
    assert body["recommendation"] is not None
    artist_block(user=listener, artist_id=beatles.pk)

    # when
    blocked = _search(listener_api, "beatles", page_size=5)

    # then nothing of the page may be recommended
    assert blocked["results"] and blocked["recommendation"] is None


def test_a_failing_recommender_leaves_the_search_answering(listener_api, monkeypatch, caplog):
    def broken(user, track_ids):
        raise RuntimeError("engine down")

    monkeypatch.setattr(registry.search_recommenders, "_entries", {"broken": broken})
    with caplog.at_level(logging.ERROR, logger="catalog.selectors"):
        body = _search(listener_api, "beatles")

    assert body["results"] and body["recommendation"] is None
    assert "search recommender broken failed" in caplog.text


def test_a_pick_outside_the_results_is_ignored(listener, monkeypatch):
    monkeypatch.setattr(registry.search_recommenders, "_entries", {"x": lambda u, ids: (-1, "no")})

    assert search_recommendation(user=listener, track_ids=[1, 2]) is None


def test_the_recommender_is_registered():
    assert "recommendations.engine" in registry.search_recommenders


def test_the_search_page_highlights_the_pick_for_a_listener_only(listener_web, client):
    # when
    page = listener_web.get("/search/", {"q": "beatles"})
    anonymous = client.get("/search/", {"q": "beatles"})

    # then the listener's page has the pick, one of its results, with the reason
    assert page.status_code == 200
    picked = page.context["recommendation"]
    assert picked is not None and picked["track"] in page.context["tracks"]
    html = page.content.decode()
    assert "Our pick for you" in html and picked["reason"] in html
    assert "Our pick for you" not in anonymous.content.decode()
