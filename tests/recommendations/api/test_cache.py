"""The cache of served lists: the second identical request is a hit (the engine is not called),
every change of what a list is computed from makes the next one fresh, and with Redis stopped
lists are computed uncached. Against the real Redis (and one this module starts and stops)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from accounts import services as account_services
from catalog.models import Genre, Track
from history.models import Interaction
from musicrec import embedded
from musicrec.taste import TasteChange, taste_changed_notify
from recommendations.models import Impression, ModelVersion
from recommendations.selectors.cache import cache_figures
from recommendations.selectors.serving import CATALOG_GENERATION_KEY
from tests.services import helper_instance

pytestmark = pytest.mark.django_db

URL = "/api/v1/recommendations/"


def _ids(body: dict) -> list[int]:
    return [result["track"]["id"] for result in body["results"]]


def test_the_second_identical_request_is_a_hit_with_its_own_impression(
    listener_api, listener, engine_calls
):
    # when the same list is asked twice
    first = listener_api.get(URL, {"n": 8, "mood": "happy"})
    second = listener_api.get(URL, {"n": 8, "mood": "happy"})

    # then the engine computed it once, and each serve is its own impression
    assert first.status_code == second.status_code == 200
    assert engine_calls.count == 1
    assert _ids(first.json()) == _ids(second.json())
    assert first.json()["generated_at"] == second.json()["generated_at"]
    assert first.json()["impression_id"] != second.json()["impression_id"]
    assert Impression.objects.filter(user=listener).count() == 2
    figures = cache_figures()
    assert (figures.hits, figures.misses, figures.hit_rate) == (1, 1, 0.5)


def test_each_request_is_cached_apart(listener_api, engine_calls):
    for query in ({}, {"n": 6}, {"mood": "sad"}, {"mood": ""}, {"activity": "focus"}):
        listener_api.get(URL, query)
    listener_api.get(URL, {"discovery": "0.8"})
    listener_api.get(URL, {"discovery": "0.8"})

    assert engine_calls.count == 6


def test_listeners_are_cached_apart(listener_api, other_api, listener, other_listener):
    mine = listener_api.get(URL).json()
    theirs = other_api.get(URL).json()

    assert Impression.objects.get(pk=mine["impression_id"]).user == listener
    assert Impression.objects.get(pk=theirs["impression_id"]).user == other_listener
    assert cache_figures().misses == 2


@pytest.mark.parametrize("reason", list(TasteChange))
def test_every_change_of_taste_makes_the_next_request_fresh(
    listener_api, other_api, listener, engine_calls, reason
):
    # given both listeners' lists cached
    listener_api.get(URL)
    other_api.get(URL)
    assert engine_calls.count == 2

    # when the listener's taste changes (the hook the history's and accounts' services call
    # on commit, with its reason)
    taste_changed_notify(user_id=listener.pk, reason=reason)
    listener_api.get(URL)
    other_api.get(URL)

    # then only their next list is computed again
    assert engine_calls.count == 3
    assert engine_calls.calls[-1]["user"] == listener


def test_a_like_and_a_dislike_are_reflected_by_the_next_request(
    listener_api, engine_calls, django_capture_on_commit_callbacks
):
    before = listener_api.get(URL, {"n": 10}).json()
    liked = Track.objects.exclude(pk__in=_ids(before)).order_by("-popularity").first()

    with django_capture_on_commit_callbacks(execute=True):
        listener_api.post(
            "/api/v1/interactions/", {"track_id": liked.pk, "kind": "like"}, format="json"
        )
    after_like = listener_api.get(URL, {"n": 10}).json()
    disliked = _ids(after_like)[0]
    with django_capture_on_commit_callbacks(execute=True):
        listener_api.post(
            "/api/v1/interactions/", {"track_id": disliked, "kind": "dislike"}, format="json"
        )
    after_dislike = listener_api.get(URL, {"n": 10}).json()

    assert engine_calls.count == 3  # each request after a change was computed
    assert _ids(after_like) != _ids(before)
    assert disliked not in _ids(after_dislike)


def test_a_block_is_reflected_by_the_next_request(
    listener_api, engine_calls, django_capture_on_commit_callbacks
):
    before = listener_api.get(URL, {"n": 20}).json()
    artist_id = before["results"][0]["track"]["artists"][0]["id"]

    with django_capture_on_commit_callbacks(execute=True):
        blocked = listener_api.post("/api/v1/me/blocks/", {"artist_id": artist_id}, format="json")
    after = listener_api.get(URL, {"n": 20}).json()

    assert blocked.status_code == 201
    assert engine_calls.count == 2
    artists = {artist["id"] for r in after["results"] for artist in r["track"]["artists"]}
    assert artist_id not in artists
    assert len(after["results"]) == 20


def test_a_context_change_is_reflected_by_the_next_request(
    signed_in_api, engine_calls, django_capture_on_commit_callbacks
):
    before = signed_in_api.get(URL, {"n": 10}).json()

    with django_capture_on_commit_callbacks(execute=True):
        signed_in_api.put("/api/v1/me/context/", {"activity": "exercise"}, format="json")
    after = signed_in_api.get(URL, {"n": 10}).json()

    assert engine_calls.count == 2
    assert after["parameters"]["activity"] == "exercise"
    assert _ids(after) != _ids(before)


def test_preferences_and_discovery_changes_are_reflected(
    listener, signed_in_api, engine_calls, django_capture_on_commit_callbacks
):
    signed_in_api.get(URL)
    genre = Genre.objects.order_by("pk").first()

    with django_capture_on_commit_callbacks(execute=True):
        account_services.listener_preferences_replace(
            user=listener, preferred=[genre.pk], disliked=[]
        )
    signed_in_api.get(URL)
    with django_capture_on_commit_callbacks(execute=True):
        signed_in_api.put("/api/v1/me/context/", {"discovery": 0.9}, format="json")
    after = signed_in_api.get(URL).json()

    assert engine_calls.count == 3
    assert after["parameters"]["discovery"] == 0.9


def test_a_new_catalog_generation_or_model_makes_the_next_request_fresh(listener_api, engine_calls):
    listener_api.get(URL)

    # a track saved (catalog generation) …
    cache.set(CATALOG_GENERATION_KEY, 7, timeout=None)
    listener_api.get(URL)
    listener_api.get(URL)
    # … a finished training (another active model version)
    ModelVersion.objects.create(status=ModelVersion.Status.ACTIVE)
    listener_api.get(URL)

    assert engine_calls.count == 3


@pytest.fixture
def own_redis():
    """A Redis of this test's own as the cache (var/<instance>/helpers/list-cache/), stopped
    by the test; stopped in any case at the end."""
    instance = helper_instance("list-cache")
    try:
        url, _ = embedded.start_redis(instance)
        caches = {"default": {**settings.CACHES["default"], "LOCATION": url.replace("/0", "/1")}}
        with override_settings(CACHES=caches):
            yield instance
    finally:
        embedded.stop_redis(instance)


def test_with_redis_stopped_lists_are_computed_uncached(
    own_redis, listener_api, listener, engine_calls, caplog
):
    # given a list cached in our own Redis
    assert listener_api.get(URL).status_code == 200
    assert listener_api.get(URL).status_code == 200
    assert engine_calls.count == 1

    # when it stops
    assert embedded.stop_redis(own_redis)
    first = listener_api.get(URL)
    second = listener_api.get(URL)
    with_feedback = listener_api.post(
        "/api/v1/interactions/",
        {"track_id": _ids(first.json())[0], "kind": "skip"},
        format="json",
    )

    # then every answer is computed, served and recorded
    assert first.status_code == second.status_code == 200
    assert engine_calls.count == 3
    assert Impression.objects.filter(user=listener).count() == 4
    assert with_feedback.status_code == 201
    assert Interaction.objects.filter(user=listener).count() == 1
    assert "computed uncached" in caplog.text
    assert not cache_figures().available
