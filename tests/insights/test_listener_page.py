"""The listener's insights page (/insights/): sign-in, empty states, a full page of data with a
bounded number of queries, escaping, and only the listener's own figures."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import zoneinfo

import pytest
from django.utils import timezone

from history.models import HistoryEntry, Interaction
from history.services.interactions import interaction_record
from recommendations.models import Impression
from tests.catalog.factories import ArtistFactory, GenreFactory, TrackFactory

pytestmark = pytest.mark.django_db

URL = "/insights/"
CHART_KEYS = [
    "genres",
    "genre-trend",
    "profile",
    "days",
    "hours",
    "top-artists",
    "top-tracks",
    "brought",
]


def _figures(html: str) -> list[str]:
    return re.findall(r'<figure class="chart" id="chart-([a-z-]+)"', html)


def _chart_data(html: str, key: str) -> dict:
    match = re.search(
        rf'<script id="chart-{key}-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, f"no data for chart {key}"
    return json.loads(match.group(1))


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_new_listener_sees_what_to_do(listener_web):
    response = listener_web.get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing to show yet" in html
    assert 'href="/search/"' in html and 'href="/history/imports/"' in html
    assert _figures(html) == []  # no empty charts under the page's own empty state
    assert 'aria-current="page">Insights</a>' in html  # the nav link, current


def test_history_only_shows_genre_charts_and_says_what_to_do_for_the_rest(listener, listener_web):
    rock = GenreFactory(name="ins-page-rock")
    for slot in range(1, 4):
        HistoryEntry.objects.create(user=listener, track=TrackFactory(genres=[rock]), slot=slot)

    html = listener_web.get(URL).content.decode()

    assert _figures(html) == CHART_KEYS
    assert "Nothing to show yet" not in html
    # the genres chart is drawn (data present); the plays charts show their empty text
    assert _chart_data(html, "genres")["series"][0]["values"] == [1.0]
    assert "Mostly ins-page-rock (100\u202f%) in your history." in html
    assert "No plays in the last 90 days" in html
    assert 'id="chart-days-data"' not in html
    assert "Import your listening</a>" in html


@pytest.fixture
def lots(listener, other_listener):
    """300 plays over 90 days of 60 tracks (50 of them in the history), likes, served lists;
    and another listener with data of their own."""
    rng = random.Random(14)
    genres = [GenreFactory(name=f"ins-lots-{i}") for i in range(12)]
    artists = [ArtistFactory(name=f"Ins Lots Artist {i}") for i in range(15)]
    tracks = [
        TrackFactory(
            title=f"Lots {i}",
            artists=[artists[i % 15]],
            genres=[genres[i % 12], genres[(i * 5) % 12]],
            energy=rng.random(),
            valence=rng.random(),
        )
        for i in range(60)
    ]
    now = timezone.now()
    for slot, track in enumerate(tracks[:50], start=1):
        HistoryEntry.objects.create(user=listener, track=track, slot=slot)
    Interaction.objects.bulk_create(
        Interaction(
            user=listener,
            track=rng.choice(tracks),
            kind="play",
            occurred_at=now - dt.timedelta(minutes=rng.randrange(1, 89 * 24 * 60)),
        )
        for _ in range(300)
    )
    fresh = TrackFactory(title="Fresh from a list", artists=[artists[0]])
    Impression.objects.create(
        user=listener,
        served_at=now - dt.timedelta(days=3),
        surface="web",
        items=[{"track_id": fresh.pk, "position": 0}],
    )
    interaction_record(user=listener, track_id=fresh.pk, kind="like")
    for track in tracks[:9]:
        interaction_record(user=listener, track_id=track.pk, kind="like")
    secret = TrackFactory(title="The other listener's secret", genres=[GenreFactory(name="ins-x")])
    HistoryEntry.objects.create(user=other_listener, track=secret, slot=1)
    interaction_record(user=other_listener, track_id=secret.pk, kind="play")
    interaction_record(user=other_listener, track_id=secret.pk, kind="like")
    return tracks


def test_a_full_page_renders_every_chart_in_a_bounded_number_of_queries(
    listener_web, lots, django_assert_max_num_queries
):
    # the session, the user, the figures (8–9 queries) and nothing per row
    with django_assert_max_num_queries(12):
        response = listener_web.get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert _figures(html) == CHART_KEYS
    assert html.count("<canvas") == len(CHART_KEYS)
    days = _chart_data(html, "days")
    assert len(days["labels"]) == 90 and sum(days["series"][0]["values"]) == 300
    assert sum(_chart_data(html, "hours")["series"][0]["values"]) == 300
    brought = _chart_data(html, "brought")
    assert brought["series"][0]["values"] == [1, 9]  # 1 of 10 likes came from a list
    assert "Recommendations brought you 1 track you kept; 1 of your 10 likes (10\u202f%)" in html
    assert "Fresh from a list" in html
    assert "Chart.getChart" not in html  # no inline code: the page's script draws
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/insights-charts.js" in html


def test_another_listeners_data_never_appears(listener_web, lots):
    html = listener_web.get(URL).content.decode()

    assert "The other listener" not in html
    assert "ins-x" not in html


def test_catalog_text_is_escaped(listener, listener_web):
    nasty = TrackFactory(
        title='<img src=x onerror="alert(1)">', artists=[ArtistFactory(name="<b>Bold</b>")]
    )
    HistoryEntry.objects.create(user=listener, track=nasty, slot=1)
    interaction_record(user=listener, track_id=nasty.pk, kind="play")

    html = listener_web.get(URL).content.decode()

    assert "<img src=x" not in html
    assert "<b>Bold</b>" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html  # the table and the reading
    # the chart data escapes < too (json_script)
    assert "\\u003Cb\\u003EBold" in html


def test_readings_of_a_first_few_plays_read_as_sentences(listener, listener_web):
    """What a new listener met: "9 plays in 90 days, on 1 of them; the most on 30 Nov (9)" and
    "(1 plays)". Counts agree with their nouns, and one day is said as one day."""
    artist = ArtistFactory(name="Ins Few Artist")
    other = ArtistFactory(name="Ins Few Other")
    once = TrackFactory(title="Ins Few Once", artists=[artist])
    also = TrackFactory(title="Ins Few Also", artists=[other])
    interaction_record(user=listener, track_id=once.pk, kind="play")
    interaction_record(user=listener, track_id=also.pk, kind="play")

    html = listener_web.get(URL).content.decode()

    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(listener.time_zone))
    assert f"2 plays in the last 90 days, all on {today.day} {today:%b}." in html
    assert "Ins Few Artist and Ins Few Other lead (1 play each)." in html
    assert "(1 play)." in html and "1 plays" not in html
    assert "on 1 of them" not in html


def test_the_empty_page_does_not_promise_a_play_button(listener_web):
    # plays come from imports and apps; the web's recommendations have like, not play
    html = listener_web.get(URL).content.decode()
    assert "like the tracks you enjoy in" in html and "play and like" not in html
