"""A served list: its payload and the impression it records."""

from __future__ import annotations

import uuid

import pytest

from recommendations.models import Impression, ImpressionSurface
from recommendations.selectors import serving
from recommendations.services.lists import recommendation_list_serve

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_state():
    serving.serving_state_reset()
    yield
    serving.serving_state_reset()


def test_a_served_list_is_recorded_as_the_impression_its_payload_names(listener, other_listener):
    # when a list of 7 is served on the home page
    served = recommendation_list_serve(user=listener, n=7, activity="exercise", surface="web")

    # then the payload carries the impression's id, and the impression what was served
    payload = served.payload
    assert payload["impression_id"] == str(served.impression_id)
    assert uuid.UUID(payload["impression_id"]) == served.impression_id
    assert len(payload["results"]) == 7
    assert [r["position"] for r in payload["results"]] == list(range(1, 8))
    assert payload["parameters"] == {"n": 7, "mood": None, "activity": "exercise", "discovery": 0.5}
    impression = Impression.objects.get(pk=served.impression_id)
    assert impression.user == listener
    assert impression.surface == ImpressionSurface.WEB
    assert impression.parameters == payload["parameters"]
    assert [item["track_id"] for item in impression.items] == [
        r["track"]["id"] for r in payload["results"]
    ]
    assert impression.items[0]["sources"] == payload["results"][0]["sources"]
    for result in payload["results"]:
        assert 0.0 <= result["confidence"] <= 1.0
        assert result["reasons"] and result["reasons"][0]["text"]
    # and only that listener's
    assert not Impression.objects.filter(user=other_listener).exists()


def test_a_list_already_shown_is_served_under_its_impression_and_not_recorded_again(listener):
    # given a list pushed live (recorded as a live impression)
    pushed = recommendation_list_serve(user=listener, n=6, surface="live")

    # when the page serves the same list naming that impression
    shown = recommendation_list_serve(user=listener, n=6, surface="web", shown=pushed.impression_id)

    # then it is that impression, and nothing new is recorded
    assert shown.impression_id == pushed.impression_id
    assert shown.payload["impression_id"] == str(pushed.impression_id)
    assert shown.payload["results"] == pushed.payload["results"]
    assert Impression.objects.filter(user=listener).count() == 1


def test_another_listener_s_impression_or_a_different_list_is_recorded_anew(
    listener, other_listener
):
    theirs = recommendation_list_serve(user=other_listener, n=6, surface="live")
    shorter = recommendation_list_serve(user=listener, n=3, surface="live")

    # when a list names another listener's impression, or one of a different list
    borrowed = recommendation_list_serve(
        user=listener, n=6, surface="web", shown=theirs.impression_id
    )
    other = recommendation_list_serve(
        user=listener, n=6, surface="web", shown=shorter.impression_id
    )
    unknown = recommendation_list_serve(user=listener, n=6, surface="web", shown=uuid.uuid4())

    # then each is served and recorded as the listener's own new impression
    served = {borrowed.impression_id, other.impression_id, unknown.impression_id}
    assert len(served) == 3
    assert not served & {theirs.impression_id, shorter.impression_id}
    assert Impression.objects.filter(user=listener, surface=ImpressionSurface.WEB).count() == 3
    assert Impression.objects.filter(user=other_listener).count() == 1
