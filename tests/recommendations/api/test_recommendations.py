"""GET /api/v1/recommendations/: defaults, bounds, what each result carries, who sees what."""

from __future__ import annotations

import uuid

import pytest

from history.models import Interaction
from recommendations.models import Impression, ImpressionSurface

pytestmark = pytest.mark.django_db

URL = "/api/v1/recommendations/"


def test_defaults_five_results_each_with_track_scores_confidence_and_reasons(
    listener_api, listener
):
    # when
    response = listener_api.get(URL)

    # then
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "impression_id",
        "model_version",
        "generated_at",
        "parameters",
        "weights",
        "results",
    }
    assert body["parameters"] == {"n": 5, "mood": None, "activity": None, "discovery": 0.5}
    assert len(body["results"]) == 5
    assert [result["position"] for result in body["results"]] == [1, 2, 3, 4, 5]
    for result in body["results"]:
        assert result["track"]["id"] and result["track"]["title"]
        assert 0.0 <= result["confidence"] <= 1.0
        assert result["sources"], "each result names the sources that scored it"
        assert all(name in body["weights"] for name in result["sources"])
        assert result["reasons"]
        assert all(reason["text"] and reason["source"] for reason in result["reasons"])
    impression = Impression.objects.get(pk=body["impression_id"])
    assert impression.user == listener
    assert impression.surface == ImpressionSurface.API


def test_parameters_override_the_stored_context_for_this_list_only(listener_api, listener):
    listener.mood, listener.activity, listener.discovery = "sad", "relax", 0.2
    listener.save(update_fields=["mood", "activity", "discovery"])

    stored = listener_api.get(URL).json()["parameters"]
    overridden = listener_api.get(
        URL, {"n": 12, "mood": "happy", "activity": "party", "discovery": "0.9"}
    ).json()["parameters"]
    cleared = listener_api.get(URL, {"mood": "", "activity": ""}).json()["parameters"]

    assert stored == {"n": 5, "mood": "sad", "activity": "relax", "discovery": 0.2}
    assert overridden == {"n": 12, "mood": "happy", "activity": "party", "discovery": 0.9}
    assert cleared == {"n": 5, "mood": None, "activity": None, "discovery": 0.2}
    listener.refresh_from_db()
    assert (listener.mood, listener.activity, listener.discovery) == ("sad", "relax", 0.2)


def test_up_to_a_hundred_results(listener_api):
    body = listener_api.get(URL, {"n": 100}).json()

    assert len(body["results"]) == 100
    assert len({result["track"]["id"] for result in body["results"]}) == 100


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"n": "0"}, "n"),
        ({"n": "101"}, "n"),
        ({"n": "-1"}, "n"),
        ({"n": "five"}, "n"),
        ({"n": "9" * 5000}, "n"),  # more digits than int() takes: a 400, not a 500
        ({"n": "5.0"}, "n"),
        ({"n": " 5"}, "n"),
        ({"n": ""}, "n"),
        ({"mood": "grumpy"}, "mood"),
        ({"mood": "Happy"}, "mood"),
        ({"activity": "sleeping"}, "activity"),
        ({"discovery": "1.01"}, "discovery"),
        ({"discovery": "-0.1"}, "discovery"),
        ({"discovery": "nan"}, "discovery"),
        ({"discovery": "inf"}, "discovery"),
        ({"discovery": ""}, "discovery"),
        ({"discovery": "half"}, "discovery"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it_and_serves_nothing(
    listener_api, listener, query, parameter
):
    response = listener_api.get(URL, query)

    assert response.status_code == 400
    assert list(response.json()) == [parameter]
    assert not Impression.objects.filter(user=listener).exists()


def test_anonymous_is_refused(api_client):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert not Impression.objects.exists()


def test_two_listeners_never_see_each_others_lists_or_impressions(
    listener_api, other_api, listener, other_listener, django_capture_on_commit_callbacks
):
    # given each listener's own list, after the other listener disliked a track of theirs
    mine = listener_api.get(URL).json()
    theirs_before = other_api.get(URL).json()
    disliked = mine["results"][0]["track"]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            listener_api.post(
                "/api/v1/interactions/",
                {"track_id": disliked, "kind": "dislike", "impression_id": mine["impression_id"]},
                format="json",
            ).status_code
            == 201
        )

    # when the other listener answers with the first listener's impression id
    stolen = other_api.post(
        "/api/v1/interactions/",
        {"track_id": disliked, "kind": "like", "impression_id": mine["impression_id"]},
        format="json",
    )

    # then it is unknown to them, and nothing is stored
    assert stolen.status_code == 404
    assert stolen.json()["code"] == "unknown_impression"
    assert not Interaction.objects.filter(user=other_listener).exists()
    # and each one's impressions are their own; the other's list is not touched by the dislike
    assert Impression.objects.get(pk=mine["impression_id"]).user == listener
    assert Impression.objects.get(pk=theirs_before["impression_id"]).user == other_listener
    theirs_after = other_api.get(URL).json()
    assert [r["track"]["id"] for r in theirs_after["results"]] == [
        r["track"]["id"] for r in theirs_before["results"]
    ]
    events = listener_api.get("/api/v1/interactions/").json()["results"]
    assert events[0]["impression_id"] == mine["impression_id"]
    assert other_api.get("/api/v1/interactions/").json()["results"] == []


def test_an_impression_id_never_served_is_unknown(listener_api, listener):
    track_id = listener_api.get(URL).json()["results"][0]["track"]["id"]

    response = listener_api.post(
        "/api/v1/interactions/",
        {"track_id": track_id, "kind": "play", "impression_id": str(uuid.uuid4())},
        format="json",
    )

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_impression"
    assert not Interaction.objects.filter(user=listener).exists()


def test_an_interaction_without_impression_shows_none(listener_api):
    track_id = listener_api.get(URL).json()["results"][0]["track"]["id"]

    created = listener_api.post(
        "/api/v1/interactions/", {"track_id": track_id, "kind": "play"}, format="json"
    )

    assert created.status_code == 201
    assert created.json()["impression_id"] is None
