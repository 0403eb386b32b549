"""What a new listener tripped on when the pages were walked (issue #12, finishing): a newcomer's
popular picks called "Strong match", the confidence said as a raw number, an empty history
that "your list starts from", a search pick that did not say which of two "Love"s it meant nor
where its buttons were, similar tracks without buttons, and the discovery setting as a bare
percentage."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import GenrePreference
from catalog.models import Genre, Track
from history.models import HistoryEntry
from history.selectors.entries import HistoryState
from history.services.interactions import interaction_record
from recommendations.selectors import serving
from recommendations.selectors.pages import Opinions
from recommendations.templatetags.recommendation_tags import (
    discovery_words,
    hit_rate_words,
    match_words,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_state():
    serving.serving_state_reset()
    yield
    serving.serving_state_reset()


# --- the words of a result ------------------------------------------------------------------


def test_a_result_only_popularity_scored_is_a_popular_pick_not_a_match(settings):
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "ensemble": {"calibration": {"knots": [0, 1], "values": [0.01, 0.1]}},
    }
    popular = {"confidence": 0.1, "sources": {"popularity": 1.0, "collaborative": 0.0}}
    personal = {"confidence": 0.1, "sources": {"popularity": 0.4, "collaborative": 0.7}}
    from_cohort = {"confidence": 0.1, "sources": {"demographic": 0.2}}

    assert match_words(popular) == "Popular pick"
    assert match_words({"confidence": 0.1}) == "Popular pick"
    assert match_words(personal) == match_words(from_cohort) == "Strong match"


def test_the_confidence_is_said_as_a_share_of_listeners_not_a_number():
    assert hit_rate_words(0.083) == "about 8 in 100"
    assert hit_rate_words(0.0045) == hit_rate_words(None) == "fewer than 1 in 100"


def test_the_list_says_match_or_popular_pick_per_result_with_the_share_in_its_tooltip(
    rf, listener, settings
):
    # given a calibration topping at 0.1, and a list of a personal result and a popular one
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "ensemble": {"calibration": {"knots": [0, 1], "values": [0.01, 0.1]}},
    }
    tracks = list(Track.objects.with_related().order_by("id")[:2])
    results = [
        {
            "position": i + 1,
            "track": {"id": track.pk, "title": track.title, "artists": [], "album": None},
            "score": 0.9,
            "confidence": 0.083,
            "sources": sources,
            "reasons": [{"kind": "k", "source": "popularity", "text": "Trending now"}],
        }
        for i, (track, sources) in enumerate(
            zip(
                tracks,
                [{"collaborative": 0.8, "popularity": 0.2}, {"popularity": 1.0}],
                strict=True,
            )
        )
    ]
    request = rf.get("/")
    request.user = listener

    html = render_to_string(
        "recommendations/_list.html",
        {
            "served": {"impression_id": "x", "generated_at": "", "results": results},
            "opinions": Opinions(),
            "history": HistoryState(0, frozenset()),
        },
        request=request,
    )

    words = re.findall(r'<span class="rec-confidence-words">([^<]*)</span>', html)
    assert words == ["Worth a try", "Popular pick"]  # 0.083 of two bins 0.01 / 0.1
    assert (
        html.count(
            'title="Of the tracks recommended this confidently, listeners played about 8 in 100"'
        )
        == 2
    )
    assert "Confidence 0." not in html


# --- the home page's history panel -----------------------------------------------------------


def test_an_empty_history_says_what_the_list_starts_from_and_what_to_do(listener_web, listener):
    page = listener_web.get("/").content.decode()

    assert "Your list starts from these." not in page
    assert "Nothing in it yet, so your list starts from what is popular." in page
    assert "Add tracks you love" in page

    # with genres picked, it says so
    GenrePreference.objects.create(
        user=listener, genre=Genre.objects.first(), kind=GenrePreference.Kind.PREFERRED
    )
    page = listener_web.get("/").content.decode()
    assert "starts from what is popular in the genres you picked." in page


def test_a_history_with_tracks_is_what_the_list_starts_from(listener_web, listener):
    track = Track.objects.order_by("id").first()
    HistoryEntry.objects.create(user=listener, track=track, slot=1)

    page = listener_web.get("/").content.decode()

    assert "tracks. Your list starts from these." in page
    assert "Nothing in it yet" not in page


# --- search, similar tracks, profile ---------------------------------------------------------


def test_the_search_pick_names_its_artists_and_is_marked_in_the_results(listener_web):
    title = Track.objects.order_by("id").values_list("title", flat=True).first()

    answer = listener_web.get(reverse("catalog:search"), {"q": title.split()[0]})

    pick = answer.context["recommendation"]["track"]
    page = answer.content.decode()
    box = page[page.index('<section class="search-pick"') : page.index("</section>")]
    for artist in pick.artist_list:
        assert artist.name in box
    assert f'href="#track-{pick.pk}"' in box
    # the one result marked, where its buttons are
    assert page.count('class="track is-pick"') == 1
    marked = re.search(r'<li class="track is-pick" id="track-(\d+)"', page)
    assert int(marked[1]) == pick.pk
    item = page[marked.start() : page.index("</li>", marked.start())]
    assert "Our pick for you" in item and "feedback-like" in item


def test_similar_tracks_have_like_dislike_and_add_to_history_for_a_listener(
    listener_web, listener, client
):
    track = Track.objects.order_by("id").first()
    similar = listener_web.get(reverse("catalog:track", args=[track.pk])).context["similar"]
    liked = similar[0].track
    interaction_record(user=listener, track_id=liked.pk, kind="like")

    page = listener_web.get(reverse("catalog:track", args=[track.pk])).content.decode()

    section = page[page.index('<section class="similar-tracks"') :]
    for item in similar:
        li = section[section.index(f'id="track-{item.track.pk}"') :]
        li = li[: li.index('<li class="rec"') if '<li class="rec"' in li else li.index("</ol>")]
        assert f'aria-label="Dislike “{item.track.title}”"' in li
        assert "Add to history" in li or "In your history" in li
        # back to this track page, at that similar track
        assert f'value="/tracks/{track.pk}/#track-{item.track.pk}"' in li
    # the listener's opinion shows
    assert f'aria-label="You like “{liked.title}” (like again)"' in section
    # a visitor gets the list without buttons
    theirs = client.get(reverse("catalog:track", args=[track.pk])).content.decode()
    assert "Similar tracks" in theirs
    assert "feedback-button" not in theirs[theirs.index('<section class="similar-tracks"') :]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0.0, "as familiar as it gets"),
        (0.2, "mostly familiar"),
        (0.5, "balanced"),
        (0.8, "mostly new to you"),
        (1.0, "as new as it gets"),
    ],
)
def test_the_discovery_setting_is_said_in_words(value, words):
    assert discovery_words(value) == words


def test_the_profile_says_the_discovery_in_words(listener_web, listener):
    listener.discovery = 1.0
    listener.save(update_fields=["discovery"])

    page = listener_web.get(reverse("accounts:profile")).content.decode()

    assert "Now: as new as it gets." in page
    assert "100 %" not in page
