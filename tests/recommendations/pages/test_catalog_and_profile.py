"""Feedback buttons wherever tracks are listed (search, track, artist, genre pages), the track
page's similar tracks and the search pick (their includes), the profile's recommendation
settings, and the pages that now link to the list."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import ArtistBlock
from catalog.models import Track
from history.models import Interaction, Opinion
from history.services.interactions import interaction_record
from tests.catalog.factories import ArtistFactory, TrackFactory

pytestmark = pytest.mark.django_db

FEEDBACK = "/recommendations/feedback/"
LIKE_BUTTON = 'class="feedback-button feedback-like"'


def _track() -> Track:
    return Track.objects.with_related().order_by("-popularity", "id").first()


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _pages(track: Track) -> list[str]:
    artist = track.artist_list[0]
    genre = track.genres.first()
    return [
        f"/search/?q={track.title.split()[0]}",
        f"/tracks/{track.pk}/",
        f"/artists/{artist.pk}/",
        f"/genres/{genre.slug}/",
    ]


def test_listeners_get_like_and_dislike_wherever_tracks_are_listed(listener_web, client):
    track = _track()
    for url in _pages(track):
        mine = listener_web.get(url).content.decode()
        assert LIKE_BUTTON in mine, url
        assert 'value="dislike"' in mine, url
        assert "Add to history" in mine, url
        # visitors get none of them
        theirs = client.get(url).content.decode()
        assert "feedback-button" not in theirs, url
        assert "Add to history" not in theirs, url


def test_the_buttons_show_what_the_listener_thinks_of_each_track(listener_web, listener):
    track = _track()
    interaction_record(user=listener, track_id=track.pk, kind="like")

    page = listener_web.get(f"/tracks/{track.pk}/").content.decode()

    assert f'aria-label="You like “{track.title}” (like again)"' in page
    assert "♥ Liked" in page


def test_a_like_without_javascript_goes_back_to_the_page_it_came_from(listener_web, listener):
    track = _track()
    back = f"/artists/{track.artist_list[0].pk}/"

    answer = listener_web.post(
        FEEDBACK,
        {"track_id": track.pk, "kind": "like", "next": f"{back}#track-{track.pk}"},
        follow=True,
    )

    assert answer.redirect_chain == [(f"{back}#track-{track.pk}", 302)]
    assert any(track.title in m and "You like" in m for m in _messages(answer))
    event = Interaction.objects.get(user=listener)
    assert (event.kind, event.impression_id) == ("like", None)


def test_a_dislike_by_htmx_on_a_catalog_page_swaps_that_track_s_buttons(listener_web, listener):
    track = _track()

    answer = listener_web.post(
        FEEDBACK,
        {"track_id": track.pk, "kind": "dislike", "next": f"/tracks/{track.pk}/#track-{track.pk}"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="",
    )

    page = answer.content.decode()
    assert answer.status_code == 200 and "<html" not in page
    assert "✕ Disliked" in page and "♡ Like" in page
    assert "feedback-skip" not in page  # skip and block belong to a served list
    assert f'name="next" value="/tracks/{track.pk}/#track-{track.pk}"' in page
    assert Opinion.objects.get(user=listener, track=track).value == "dislike"


def test_a_next_to_another_site_is_not_followed(listener_web):
    track = _track()
    answer = listener_web.post(
        FEEDBACK, {"track_id": track.pk, "kind": "like", "next": "https://evil.example/"}
    )
    assert answer.status_code == 302 and answer["Location"] == "/"


def test_catalog_text_in_buttons_is_escaped(listener_web):
    evil = '<img src=x onerror="alert(1)">'
    track = TrackFactory(title=evil, artists=[ArtistFactory(name=evil)])

    page = listener_web.get(f"/tracks/{track.pk}/").content.decode()

    assert evil not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_the_similar_tracks_include_shows_reasons_escaped_and_nothing_without_items():
    track = _track()
    evil = "<b>loud</b>"
    items = [{"track": {"id": track.pk, "title": evil, "artists": []}, "reasons": [{"text": evil}]}]

    html = render_to_string("recommendations/_similar_tracks.html", {"similar": items})

    assert "Similar tracks" in html and f'href="/tracks/{track.pk}/"' in html
    assert "<b>" not in html and html.count("&lt;b&gt;loud&lt;/b&gt;") == 2
    assert render_to_string("recommendations/_similar_tracks.html", {"similar": None}).strip() == ""


def test_the_search_pick_include_highlights_the_recommended_result():
    track = _track()

    html = render_to_string(
        "recommendations/_search_pick.html",
        {"recommendation": {"track": track, "reason": "Because you <like> it"}},
    )

    assert "Our pick for you" in html and f'href="/tracks/{track.pk}/"' in html
    assert "Because you &lt;like&gt; it" in html
    assert render_to_string("recommendations/_search_pick.html", {}).strip() == ""


# --------------------------------------------------------------------------- profile


def test_the_profile_lists_blocked_artists_and_unblocks_one(listener_web, listener, other_listener):
    artist = _track().artist_list[0]
    ArtistBlock.objects.create(user=listener, artist=artist)
    ArtistBlock.objects.create(user=other_listener, artist=ArtistFactory(name="Not mine"))

    page = listener_web.get("/accounts/profile/").content.decode()
    assert f"Unblock {artist.name}" in page
    assert "Not mine" not in page

    answer = listener_web.post(
        "/recommendations/unblock/",
        {"artist_id": artist.pk, "next": "/accounts/profile/#recommendations"},
        follow=True,
    )
    assert answer.redirect_chain == [("/accounts/profile/#recommendations", 302)]
    assert not ArtistBlock.objects.filter(user=listener).exists()
    assert ArtistBlock.objects.filter(user=other_listener).exists()
    assert any(m.startswith("Unblocked") for m in _messages(answer))
    assert "None. “Not this artist”" in answer.content.decode()


def test_the_profile_sets_the_default_discovery(listener_web, listener):
    page = listener_web.get("/accounts/profile/").content.decode()
    assert 'name="discovery" min="0" max="1" step="0.05" value="0.500000"' in page

    listener_web.post("/recommendations/discovery/", {"discovery": "0.75"})
    listener.refresh_from_db()
    assert listener.discovery == 0.75

    refused = listener_web.post("/recommendations/discovery/", {"discovery": "7"}, follow=True)
    assert any(m.startswith("Nothing was saved.") for m in _messages(refused))
    listener.refresh_from_db()
    assert listener.discovery == 0.75


def test_history_and_onboarding_lead_to_the_list(listener_web):
    history = listener_web.get("/history/").content.decode()
    assert '<a href="/">Your recommendations</a> start from these.' in history

    done = listener_web.post("/accounts/onboarding/genres/", {"finish": "1"}, follow=True)
    assert done.redirect_chain[-1] == ("/", 302)
    assert "All set: here are your first recommendations." in _messages(done)
    assert b'id="rec-list"' in done.content

    assert '<a href="/" aria-current="page">For you</a>' in done.content.decode()


def test_the_search_page_highlights_the_pick_for_a_listener_and_not_for_a_visitor(
    listener_web, client
):
    # a query that matches several tracks of the test catalog
    title = Track.objects.order_by("id").values_list("title", flat=True).first()
    word = title.split()[0]

    signed_in = listener_web.get(reverse("catalog:search"), {"q": word})
    visitor = client.get(reverse("catalog:search"), {"q": word})

    assert signed_in.status_code == visitor.status_code == 200
    pick = signed_in.context["recommendation"]
    assert pick["track"] in list(signed_in.context["tracks"])
    assert pick["reason"]
    assert "Our pick for you" in signed_in.content.decode()
    assert visitor.context["recommendation"] is None
    assert "Our pick for you" not in visitor.content.decode()


def test_a_track_page_lists_similar_tracks_with_reasons_without_itself(listener_web):
    track = Track.objects.order_by("id").first()

    response = listener_web.get(reverse("catalog:track", args=[track.pk]))

    assert response.status_code == 200
    similar = response.context["similar"]
    assert similar
    assert track.pk not in {item.track.pk for item in similar}
    assert all(item.reasons for item in similar)
    assert "Similar tracks" in response.content.decode()


def test_a_blocked_artist_and_a_disliked_track_leave_the_similar_tracks_of_a_listener(
    listener_web, listener
):
    track = Track.objects.order_by("id").first()
    before = listener_web.get(reverse("catalog:track", args=[track.pk])).context["similar"]
    disliked, blocked_track = before[0].track, before[1].track
    blocked = blocked_track.artist_list[0]
    Opinion.objects.create(user=listener, track=disliked, value=Opinion.Value.DISLIKE)
    ArtistBlock.objects.create(user=listener, artist=blocked)

    after = listener_web.get(reverse("catalog:track", args=[track.pk])).context["similar"] or []

    shown = {item.track.pk for item in after}
    assert disliked.pk not in shown
    assert not any(blocked in item.track.artist_list for item in after)
