"""The signed-in home page (the list, its feedback buttons, the controls, trending) with the
Django test client, without JavaScript (plain forms) and as htmx posts them (fragments)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.template.loader import render_to_string

from accounts.models import ArtistBlock
from catalog.models import ID_MAX, Track
from history.models import Interaction, Opinion
from history.selectors.entries import HistoryState
from recommendations.models import Impression, ImpressionSurface
from recommendations.selectors import serving
from recommendations.selectors.pages import Opinions
from recommendations.services.lists import recommendation_list_serve
from tests.catalog.factories import ArtistFactory, GenreFactory, TrackFactory

pytestmark = pytest.mark.django_db

HOME = "/"
LIST = "/recommendations/list/"
FEEDBACK = "/recommendations/feedback/"
CONTROLS = "/recommendations/controls/"
BLOCK = "/recommendations/block/"
HTMX_LIST = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "rec-list"}


@pytest.fixture(autouse=True)
def _fresh_state():
    serving.serving_state_reset()
    yield
    serving.serving_state_reset()


@pytest.fixture
def own_catalog(db):
    """Tracks of ten artists, committed. The tests that take it are transactional: the services
    commit as they do in a request, so their ``taste_changed`` hooks (the cache of served lists
    made stale) run before the same request serves the list again — inside the usual rolled-back
    test transaction those hooks would never run. A transactional test flushes the shared demo
    catalog afterwards, so it brings its own."""
    artists = [ArtistFactory() for _ in range(10)]
    genres = [GenreFactory() for _ in range(4)]
    return [
        TrackFactory(artists=[artists[i % 10]], genres=[genres[i % 4]], popularity=90 - i)
        for i in range(60)
    ]


COMMITTED = pytest.mark.django_db(transaction=True)


def _shown(content: bytes) -> list[int]:
    """The track ids of the served list on a page or in a fragment, in order."""
    return [
        int(t)
        for t in re.findall(
            r'<li class="rec" id="track-\d+" data-track-id="(\d+)"', content.decode()
        )
    ]


def _impression(content: bytes) -> uuid.UUID:
    return uuid.UUID(re.search(r'data-impression-id="([0-9a-f-]{36})"', content.decode())[1])


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_visitors_keep_the_catalog_home(client):
    # when a visitor opens the home page
    answer = client.get(HOME)

    # then it is the catalog's home as before: no list, nothing recorded
    assert answer.status_code == 200
    assert answer.templates[0].name == "catalog/home.html"
    assert b"Find music you will love" in answer.content
    assert b'id="rec-list"' not in answer.content
    assert not Impression.objects.exists()


def test_a_listener_home_shows_the_served_list_with_reasons_confidence_and_buttons(
    listener_web, listener
):
    # when the listener opens the home page
    answer = listener_web.get(HOME)

    # then the list served through the one path is shown, recorded as a web impression
    assert answer.status_code == 200
    assert "recommendations/home.html" in [t.name for t in answer.templates]
    shown = _shown(answer.content)
    assert len(shown) == 10
    impression = Impression.objects.get(user=listener)
    assert impression.surface == ImpressionSurface.WEB
    assert _impression(answer.content) == impression.pk
    assert [item["track_id"] for item in impression.items] == shown
    # each with its confidence in words and a meter, its reasons as sentences
    served = answer.context["served"]
    page = answer.content.decode()
    for result in served["results"]:
        assert result["reasons"][0]["text"] in page
    # (a listener with nothing known yet: popularity alone picked them, and says so)
    assert page.count("Popular pick") == 2 * 10  # the meter's fallback text and the words
    assert not re.search(r"Strong match|Good match|Worth a try|A long shot", page)
    assert page.count('<meter min="0" max="1" value="') == 10
    # the buttons, each carrying the impression
    assert page.count('name="kind" value="dislike"') == 10
    assert page.count('name="kind" value="skip"') == 10
    assert page.count(f'name="impression_id" value="{impression.pk}"') == 30  # like, dislike, skip
    assert page.count('action="/recommendations/block/"') == 10
    # the controls, trending and the live client
    assert 'name="discovery"' in page and 'name="mood"' in page and 'name="activity"' in page
    assert 'id="trending-title"' in page
    assert answer.context["trending"]
    assert "htmx" in page
    assert "js/live-recommendations.js" in page and "data-live-status" in page


def test_the_list_fragment_shows_a_pushed_list_under_its_impression(listener_web, listener):
    # given a live update pushed to the listener (their list of the page's length, recorded)
    pushed = recommendation_list_serve(user=listener, n=10, surface="live")

    # when the live client fetches the fragment naming the pushed impression
    answer = listener_web.get(LIST, {"impression": str(pushed.impression_id)}, **HTMX_LIST)

    # then the fragment shows that list under that impression, recorded once
    assert answer.status_code == 200
    assert _impression(answer.content) == pushed.impression_id
    assert _shown(answer.content) == [r["track"]["id"] for r in pushed.payload["results"]]
    assert Impression.objects.filter(user=listener).count() == 1


@pytest.mark.parametrize("impression", ["not-a-uuid", "", str(uuid.UUID(int=7))])
def test_a_list_fragment_naming_no_list_of_the_listener_serves_a_new_one(
    listener_web, listener, impression
):
    answer = listener_web.get(LIST, {"impression": impression}, **HTMX_LIST)

    assert answer.status_code == 200
    served = Impression.objects.get(user=listener)
    assert served.surface == ImpressionSurface.WEB
    assert _impression(answer.content) == served.pk


@COMMITTED
def test_a_dislike_without_javascript_records_it_and_the_list_drops_the_track(
    own_catalog, listener_web, listener
):
    # given the listener's home list
    first = listener_web.get(HOME)
    impression = _impression(first.content)
    disliked = _shown(first.content)[0]

    # when they press "Dislike" on its first track (a plain form)
    answer = listener_web.post(
        FEEDBACK,
        {"track_id": disliked, "kind": "dislike", "impression_id": impression, "next": "/"},
        follow=True,
    )

    # then it is recorded with the list it answered, and the list they are sent back to drops it
    assert answer.redirect_chain == [("/", 302)]
    event = Interaction.objects.get(user=listener)
    assert (event.track_id, event.kind, event.impression_id) == (disliked, "dislike", impression)
    assert Opinion.objects.get(user=listener, track_id=disliked).value == "dislike"
    assert disliked not in _shown(answer.content)
    assert any("will not be recommended to you again" in m for m in _messages(answer))


@COMMITTED
def test_a_dislike_by_htmx_answers_the_new_list_without_the_track(
    own_catalog, listener_web, listener
):
    first = listener_web.get(HOME)
    disliked = _shown(first.content)[2]

    answer = listener_web.post(
        FEEDBACK,
        {"track_id": disliked, "kind": "dislike", "impression_id": _impression(first.content)},
        **HTMX_LIST,
    )

    # then the answer is the list fragment (not a page), served again without the track
    assert answer.status_code == 200
    assert b"<html" not in answer.content
    shown = _shown(answer.content)
    assert len(shown) == 10 and disliked not in shown
    assert _impression(answer.content) != _impression(first.content)
    assert Impression.objects.filter(user=listener).count() == 2
    # and says what the button did, out of band into the page's notice (a live re-render of
    # the list keeps it)
    title = Track.objects.get(pk=disliked).title
    notice = re.search(
        r'<p id="rec-notice"[^>]*hx-swap-oob="true">([^<]*)</p>', answer.content.decode()
    )
    assert notice and notice[1] == f"“{title}” will not be recommended to you again."


@COMMITTED
def test_a_skip_takes_the_track_out_for_now(own_catalog, listener_web, listener):
    first = listener_web.get(HOME)
    skipped = _shown(first.content)[0]

    answer = listener_web.post(FEEDBACK, {"track_id": skipped, "kind": "skip"}, **HTMX_LIST)

    assert skipped not in _shown(answer.content)
    assert Interaction.objects.get(user=listener).kind == "skip"
    assert "it stays out of your list for a day" in answer.content.decode()


def test_a_like_by_htmx_answers_the_pressed_buttons_of_that_track(listener_web, listener):
    first = listener_web.get(HOME)
    liked = _shown(first.content)[0]
    impression = _impression(first.content)

    answer = listener_web.post(
        FEEDBACK,
        {"track_id": liked, "kind": "like", "impression_id": impression, "next": "/#track-1"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="",
    )

    page = answer.content.decode()
    assert answer.status_code == 200
    assert f'data-feedback-for="{liked}"' in page
    assert 'aria-pressed="true"' in page and "Liked" in page
    # still part of the served list: the impression is kept, "back" without the old anchor
    assert f'name="impression_id" value="{impression}"' in page
    assert 'name="next" value="/#track-' in page and "#track-1#" not in page
    assert Opinion.objects.get(user=listener, track_id=liked).value == "like"


@COMMITTED
def test_not_this_artist_blocks_it_and_its_tracks_leave_the_list(
    own_catalog, listener_web, listener
):
    first = listener_web.get(HOME)
    track = Track.objects.with_related().get(pk=_shown(first.content)[0])
    artist = track.artist_list[0]

    answer = listener_web.post(BLOCK, {"artist_id": artist.pk}, **HTMX_LIST)

    assert ArtistBlock.objects.filter(user=listener, artist=artist).exists()
    shown = Track.objects.with_related().filter(pk__in=_shown(answer.content))
    assert all(artist not in t.artist_list for t in shown)
    page = answer.content.decode()
    assert f"“{artist.name}” will not be recommended to you again." in page
    assert 'href="/accounts/profile/#recommendations">Undo on your profile</a>' in page
    # without JavaScript: back to the page with a message naming the artist
    plain = listener_web.post(BLOCK, {"artist_id": artist.pk, "next": "/"}, follow=True)
    assert any(artist.name in m for m in _messages(plain))


def test_the_controls_store_the_context_and_discovery_and_serve_the_list_again(
    listener_web, listener
):
    answer = listener_web.post(
        CONTROLS, {"mood": "calm", "activity": "relax", "discovery": "0.9"}, **HTMX_LIST
    )

    assert answer.status_code == 200 and b"<html" not in answer.content
    # the notice of an earlier button is emptied: it no longer says why the list is as it is
    assert '<p id="rec-notice" class="rec-notice" role="status" hx-swap-oob="true"></p>' in (
        answer.content.decode()
    )
    listener.refresh_from_db()
    assert (listener.mood, listener.activity, listener.discovery) == ("calm", "relax", 0.9)
    impression = Impression.objects.get(pk=_impression(answer.content))
    assert impression.parameters == {"n": 10, "mood": "calm", "activity": "relax", "discovery": 0.9}

    # without JavaScript: the same, then back to the list
    plain = listener_web.post(
        CONTROLS, {"mood": "", "activity": "", "discovery": "0.1", "next": "/#recommendations"}
    )
    assert plain.status_code == 302 and plain["Location"] == "/#recommendations"
    listener.refresh_from_db()
    assert (listener.mood, listener.activity, listener.discovery) == ("", "", 0.1)


@pytest.mark.parametrize(
    "data",
    [
        {"mood": "furious", "activity": "", "discovery": "0.5"},
        {"mood": "", "activity": "", "discovery": "1.5"},
        {"mood": "", "activity": "", "discovery": "nan"},
        {"mood": "", "activity": "", "discovery": ""},
    ],
)
def test_bad_controls_change_nothing_and_say_why(listener_web, listener, data):
    answer = listener_web.post(CONTROLS, data)

    assert answer.status_code == 400
    assert any(m.startswith("Nothing was changed.") for m in _messages(answer))
    assert b'id="rec-list"' in answer.content  # the page, shown again with the form's errors
    listener.refresh_from_db()
    assert (listener.mood, listener.activity, listener.discovery) == ("", "", 0.5)


@pytest.mark.parametrize(
    "data",
    [
        {"track_id": "x", "kind": "like"},
        {"track_id": "1", "kind": "play"},
        {"track_id": "1", "kind": "like", "impression_id": "not-a-uuid"},
        {"track_id": str(ID_MAX + 1), "kind": "like"},
    ],
)
def test_bad_feedback_is_a_400_and_stores_nothing(listener_web, data):
    assert listener_web.post(FEEDBACK, data).status_code == 400
    assert not Interaction.objects.exists()


def test_feedback_on_an_unknown_track_or_artist_is_not_found(listener_web):
    missing = Track.objects.order_by("-id").values_list("id", flat=True).first() + 1000
    assert listener_web.post(FEEDBACK, {"track_id": missing, "kind": "like"}).status_code == 404
    assert listener_web.post(BLOCK, {"artist_id": 999_999_999}).status_code == 404
    assert not Interaction.objects.exists() and not ArtistBlock.objects.exists()


def test_one_listener_s_feedback_never_touches_another_s(listener_web, other_web, listener):
    # given the listener's list
    mine = _shown(listener_web.get(HOME).content)
    # when another listener dislikes its first track and blocks the second's artist
    artist = Track.objects.with_related().get(pk=mine[1]).artist_list[0]
    other_web.post(FEEDBACK, {"track_id": mine[0], "kind": "dislike"})
    other_web.post(BLOCK, {"artist_id": artist.pk})

    # then nothing of the listener's changed: no event, opinion or block, the same list
    assert not Interaction.objects.filter(user=listener).exists()
    assert not Opinion.objects.filter(user=listener).exists()
    assert not ArtistBlock.objects.filter(user=listener).exists()
    assert _shown(listener_web.get(HOME).content) == mine
    # and the other listener cannot unblock what the listener blocked
    ArtistBlock.objects.create(user=listener, artist=artist)
    other_web.post("/recommendations/unblock/", {"artist_id": artist.pk})
    assert ArtistBlock.objects.filter(user=listener, artist=artist).exists()


def test_feedback_naming_another_listener_s_list_is_refused_and_stores_nothing(
    listener_web, other_web, listener
):
    # given the other listener's served list (its impression id is in their page)
    theirs = _impression(other_web.get(HOME).content)
    track_id = _shown(listener_web.get(HOME).content)[0]

    # when the listener posts feedback naming it, or a list never served
    named = listener_web.post(
        FEEDBACK, {"track_id": track_id, "kind": "like", "impression_id": str(theirs)}
    )
    unknown = listener_web.post(
        FEEDBACK, {"track_id": track_id, "kind": "like", "impression_id": str(uuid.uuid4())}
    )

    # then both are unknown lists to them, and nothing is stored
    assert named.status_code == unknown.status_code == 404
    assert not Interaction.objects.filter(user=listener).exists()
    # their own list is accepted
    mine = _impression(listener_web.get(HOME).content)
    listener_web.post(FEEDBACK, {"track_id": track_id, "kind": "like", "impression_id": str(mine)})
    assert Interaction.objects.get(user=listener).impression_id == mine


def test_visitors_cannot_post_feedback_or_fetch_a_list(client):
    track_id = Track.objects.values_list("id", flat=True).first()
    for url, data in (
        (FEEDBACK, {"track_id": track_id, "kind": "like"}),
        (BLOCK, {"artist_id": 1}),
        (CONTROLS, {"discovery": "0.5"}),
    ):
        answer = client.post(url, data)
        assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
    assert client.get(LIST)["Location"].startswith("/accounts/login/")
    assert not Interaction.objects.exists()


def test_a_get_of_an_action_url_goes_to_the_home_page(listener_web):
    for url in (FEEDBACK, CONTROLS, BLOCK):
        answer = listener_web.get(url)
        assert answer.status_code == 302 and answer["Location"] == "/"


def test_the_list_fragment_is_a_freshly_served_list(listener_web, listener):
    answer = listener_web.get(LIST, HTTP_HX_REQUEST="true")

    assert answer.status_code == 200 and b"<html" not in answer.content
    assert len(_shown(answer.content)) == 10
    assert Impression.objects.get(user=listener).pk == _impression(answer.content)
    # the live client's fetch never touches the notice of the last button
    assert b"rec-notice" not in answer.content
    # opened as a page (no htmx), it is the home page
    assert listener_web.get(LIST)["Location"] == "/#recommendations"


def test_the_list_escapes_catalog_and_reason_text(rf, listener):
    evil = '<script>alert("x")</script>'
    payload = {
        "impression_id": str(uuid.uuid4()),
        "generated_at": "2026-11-30T08:00:00+00:00",
        "results": [
            {
                "position": 1,
                "track": {
                    "id": 1,
                    "title": evil,
                    "explicit": False,
                    "artists": [{"id": 2, "name": evil}],
                    "album": {"name": evil},
                },
                "score": 0.5,
                "confidence": 0.8,
                "sources": {"content": 0.9},
                "reasons": [{"kind": "k", "source": "content", "text": evil}],
            }
        ],
    }
    request = rf.get("/")
    request.user = listener

    html = render_to_string(
        "recommendations/_list.html",
        {"served": payload, "opinions": Opinions(), "history": HistoryState(0, frozenset())},
        request=request,
    )

    assert "<script>" not in html
    assert html.count("&lt;script&gt;") >= 4  # title, artist, album, reason (and labels)
    assert "Strong match" in html


def test_confidence_is_said_by_where_it_stands_among_served_results(settings):
    from recommendations.templatetags.recommendation_tags import confidence_meter, confidence_words

    # given a calibration of 10 equal-count bins, hit rates 0.01 … 0.10
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "ensemble": {
            "calibration": {"knots": list(range(10)), "values": [i / 100 for i in range(1, 11)]}
        },
    }

    # then the best 20 % of served results are strong, the next 30 % good, …
    assert confidence_words(0.10) == confidence_words(0.09) == "Strong match"
    assert confidence_words(0.085) == confidence_words(0.06) == "Good match"
    assert confidence_words(0.03) == "Worth a try"
    assert (
        confidence_words(0.02) == confidence_words(0.0) == confidence_words(None) == "A long shot"
    )
    # and the meter's full scale is the highest calibrated confidence
    assert confidence_meter(0.05) == "0.500000"
    assert confidence_meter(0.5) == "1.000000"
