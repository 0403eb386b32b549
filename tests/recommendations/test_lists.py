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
