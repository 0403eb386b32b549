"""GET /api/v1/me/insights/: signed in only, the listener's own figures, the page's numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from history.models import HistoryEntry, Interaction
from history.services.interactions import interaction_record
from insights.selectors.listener import PROFILE_FEATURES
from tests.catalog.factories import ArtistFactory, GenreFactory, TrackFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/insights/"
KEYS = {
    "generated_at",
    "time_zone",
    "window_days",
    "window_start",
    "totals",
    "genres",
    "genre_periods",
    "profile",
    "platform",
    "plays_per_day",
    "plays_per_hour",
    "top_artists",
    "top_tracks",
    "brought",
    "readings",
}


def test_anonymous_is_refused(api_client):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_new_listener_gets_zeros_in_the_same_shape(listener_api):
    body = listener_api.get(URL).json()

    assert set(body) == KEYS
    assert body["window_days"] == 90
    assert body["totals"] == {"plays": 0, "imported_plays": 0, "history": 0, "liked": 0}
    assert len(body["plays_per_day"]) == 90
    assert {day["plays"] for day in body["plays_per_day"]} == {0}
    assert [hour["hour"] for hour in body["plays_per_hour"]] == list(range(24))
    assert list(body["profile"]["features"]) == list(PROFILE_FEATURES)
    assert body["brought"] == {"count": 0, "liked": 0, "liked_share": None, "tracks": []}
    assert set(body["readings"].values()) == {""}


def test_the_figures_are_the_listeners_and_match_the_page(
    listener, other_listener, listener_api, listener_web
):
    # given: in Tokyo (UTC+9), a play at 23:30 UTC is 08:30 the next day
    listener.time_zone = "Asia/Tokyo"
    listener.save(update_fields=["time_zone"])
    jazz = GenreFactory(name="ins-api-jazz")
    track = TrackFactory(title="Blue", artists=[ArtistFactory(name="Ins Api Miles")], genres=[jazz])
    HistoryEntry.objects.create(user=listener, track=track, slot=1)
    yesterday = timezone.now().astimezone(dt.UTC).replace(hour=23, minute=30) - dt.timedelta(2)
    for _ in range(3):
        Interaction.objects.create(user=listener, track=track, kind="play", occurred_at=yesterday)
    interaction_record(user=listener, track_id=track.pk, kind="like")
    interaction_record(user=other_listener, track_id=TrackFactory().pk, kind="play")

    # when
    body = listener_api.get(URL).json()
    html = listener_web.get("/insights/").content.decode()

    # then
    assert body["time_zone"] == "Asia/Tokyo"
    assert body["totals"] == {"plays": 3, "imported_plays": 0, "history": 1, "liked": 1}
    assert body["plays_per_hour"][8] == {"hour": 8, "plays": 3}
    local_day = (yesterday + dt.timedelta(hours=9)).date().isoformat()
    assert {"date": local_day, "plays": 3} in body["plays_per_day"]
    assert body["genres"]["history"] == [{"name": "ins-api-jazz", "share": 1.0, "tracks": 1.0}]
    assert body["top_artists"][0]["name"] == "Ins Api Miles"
    assert body["top_tracks"] == [
        {"id": track.pk, "title": "Blue", "artists": "Ins Api Miles", "plays": 3}
    ]
    assert body["genre_periods"][-1]["genres"] == [{"name": "ins-api-jazz", "plays": 3.0}]
    assert body["profile"]["features"]["energy"] == pytest.approx(0.5)
    assert body["platform"]["listeners"] == 2
    # the readings are the page's sentences
    assert body["readings"]["hours"] == "You listen most around 08:00 (Asia/Tokyo time)."
    for reading in body["readings"].values():
        if reading:
            assert reading.replace("\u202f", " ") in html.replace("\u202f", " ")
