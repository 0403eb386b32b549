"""History pages with the Django test client: the meter, adds from search and track pages
(the exact 44th–51st), a stale add when full, remove, clear with confirmation, two listeners."""

from __future__ import annotations

import re

import pytest

from catalog.models import Track
from history.models import HISTORY_LIMIT, HistoryEntry
from history.services.entries import history_entries_add, history_entry_add

PAGE = "/history/"
ADD = "/history/add/"
CLEAR = "/history/clear/"
FULL_REASON = "Your history is full (50/50) — remove a track first"

pytestmark = pytest.mark.django_db


def _track_ids(n: int, *, offset: int = 0) -> list[int]:
    return list(Track.objects.order_by("id").values_list("id", flat=True)[offset : offset + n])


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_44th_to_51st_adds_from_a_track_page(listener_web, user):
    ids = _track_ids(HISTORY_LIMIT + 1)
    history_entries_add(user=user, track_ids=ids[:43])

    def add(track_id: int):
        return listener_web.post(
            ADD, {"track_id": track_id, "next": f"/tracks/{track_id}/"}, follow=True
        )

    answers = [add(track_id) for track_id in ids[43:50]]
    assert [a.redirect_chain[-1] for a in answers] == [
        (f"/tracks/{track_id}/", 302) for track_id in ids[43:50]
    ]
    assert not any("remaining" in m for m in _messages(answers[0]))  # the 44th
    assert any(m.endswith("5 slots remaining.") for m in _messages(answers[1]))  # the 45th
    assert any(m.endswith("1 slot remaining.") for m in _messages(answers[5]))  # the 49th
    assert any(m.endswith("0 slots remaining.") for m in _messages(answers[6]))  # the 50th

    refused = add(ids[50])  # the 51st
    assert any("Your history is full" in m for m in _messages(refused))
    assert HistoryEntry.objects.filter(user=user).count() == 50
    assert not HistoryEntry.objects.filter(user=user, track_id=ids[50]).exists()


def test_re_adding_from_a_page_is_idempotent(listener_web, user):
    track_id = _track_ids(1)[0]
    history_entry_add(user=user, track_id=track_id)

    answer = listener_web.post(ADD, {"track_id": track_id}, follow=True)

    assert answer.redirect_chain == [(PAGE, 302)]
    assert any("already in your history" in m for m in _messages(answer))
    assert HistoryEntry.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("value", ["", "abc", "-1", "99999999999999999999"])
def test_a_malformed_track_id_is_a_400(listener_web, user, value):
    assert listener_web.post(ADD, {"track_id": value}).status_code == 400
    assert not HistoryEntry.objects.filter(user=user).exists()


def test_an_unknown_track_is_a_404(listener_web, user):
    assert listener_web.post(ADD, {"track_id": 999_999_999}).status_code == 404


def test_next_must_be_on_this_site(listener_web):
    answer = listener_web.post(ADD, {"track_id": _track_ids(1)[0], "next": "https://evil.example/"})
    assert answer["Location"] == PAGE


@pytest.mark.parametrize(
    ("count", "state", "text"),
    [
        (0, "ok", "50 slots free."),
        (44, "ok", "6 slots free."),
        (45, "warning", "5 slots remaining."),
        (49, "warning", "1 slot remaining."),
        (50, "full", "Your history is full."),
    ],
)
def test_the_meter_states(listener_web, user, count, state, text):
    history_entries_add(user=user, track_ids=_track_ids(count))

    html = listener_web.get(PAGE).content.decode()

    assert f"history-meter--{state}" in html
    assert re.search(rf'<meter [^>]*value="{count}"', html)
    assert f"{count} / 50" in html
    assert text in html
    assert 'href="/history/imports/"' in html


def test_the_page_lists_entries_with_artists_and_time_in_the_listeners_zone(listener_web, user):
    user.time_zone = "Asia/Tokyo"
    user.save(update_fields=["time_zone"])
    track = Track.objects.with_related().get(pk=_track_ids(1)[0])
    entry = history_entry_add(user=user, track_id=track.pk).entry

    html = listener_web.get(PAGE).content.decode()

    assert track.get_absolute_url() in html
    assert track.artist_list[0].get_absolute_url() in html
    assert f'action="/history/{entry.pk}/remove/"' in html
    assert "JST" in html


def test_add_buttons_on_search_and_track_pages_are_disabled_when_full(listener_web, user):
    track = Track.objects.filter(title="Bohemian Rhapsody").order_by("id").first()
    search = listener_web.get("/search/", {"q": "bohemian rhapsody"}).content.decode()
    detail = listener_web.get(track.get_absolute_url()).content.decode()
    for html in (search, detail):
        assert 'action="/history/add/"' in html
        assert "Add to history" in html
        assert FULL_REASON not in html
        assert " disabled " not in html

    history_entries_add(user=user, track_ids=_track_ids(50))

    search = listener_web.get("/search/", {"q": "bohemian rhapsody"}).content.decode()
    detail = listener_web.get(track.get_absolute_url()).content.decode()
    for html in (search, detail):
        assert FULL_REASON in html
        assert re.search(r"<button [^>]*disabled[^>]*>Add to history</button>", html)


def test_tracks_already_in_the_history_say_so_instead_of_an_add_button(listener_web, user):
    track = Track.objects.filter(title="Bohemian Rhapsody").order_by("id").first()
    others = Track.objects.exclude(pk=track.pk).order_by("id").values_list("id", flat=True)
    history_entries_add(user=user, track_ids=[track.pk, *others[:49]])  # full, with the track

    search = listener_web.get("/search/", {"q": "bohemian rhapsody"}).content.decode()
    detail = listener_web.get(track.get_absolute_url()).content.decode()

    for html in (search, detail):
        assert "✓ In your history" in html
        # no "Add to history" button for it (#12: like / dislike forms name the track too)
        add_forms = re.findall(r'<form class="history-add".*?</form>', html, flags=re.S)
        assert not [form for form in add_forms if f'value="{track.pk}"' in form]
    # the other versions in the results are not in the history: their buttons are disabled
    assert re.search(r"<button [^>]*disabled[^>]*>Add to history</button>", search)


def test_the_history_page_offers_an_upload_of_listening_data(listener_web):
    html = listener_web.get(PAGE).content.decode()

    form = re.search(r'<form method="post" action="/history/imports/upload/"[^>]*>', html)
    assert form is not None
    assert 'enctype="multipart/form-data"' in form.group(0)
    assert 'type="file" name="file"' in html
    assert 'href="/history/imports/"' in html


def test_anonymous_visitors_see_no_add_buttons_and_are_sent_to_sign_in(client):
    assert (
        "Add to history" not in client.get("/search/", {"q": "bohemian rhapsody"}).content.decode()
    )
    assert client.get(PAGE)["Location"].startswith("/accounts/login/")
    answer = client.post(ADD, {"track_id": _track_ids(1)[0]})
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/")
    assert not HistoryEntry.objects.exists()


def test_remove_one_entry(listener_web, user):
    entries = [history_entry_add(user=user, track_id=t).entry for t in _track_ids(2)]

    answer = listener_web.post(f"/history/{entries[0].pk}/remove/", follow=True)

    assert any("1 / 50" in m for m in _messages(answer))
    assert list(HistoryEntry.objects.filter(user=user)) == [entries[1]]


def test_clear_needs_the_confirmation(listener_web, user):
    history_entries_add(user=user, track_ids=_track_ids(3))

    unconfirmed = listener_web.post(CLEAR, {})
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm" in unconfirmed.content.decode()
    assert HistoryEntry.objects.filter(user=user).count() == 3

    confirmed = listener_web.post(CLEAR, {"confirm": "on"}, follow=True)
    assert any("cleared (3 tracks)" in m for m in _messages(confirmed))
    assert not HistoryEntry.objects.filter(user=user).exists()


def test_two_listeners_pages(listener_web, user, other_listener):
    mine, theirs = _track_ids(2)
    history_entry_add(user=user, track_id=mine)
    their_entry = history_entry_add(user=other_listener, track_id=theirs).entry

    html = listener_web.get(PAGE).content.decode()
    assert f"/tracks/{mine}/" in html
    assert f"/tracks/{theirs}/" not in html
    assert f"/history/{their_entry.pk}/remove/" not in html

    assert listener_web.post(f"/history/{their_entry.pk}/remove/").status_code == 404
    listener_web.post(CLEAR, {"confirm": "on"})
    listener_web.post(ADD, {"track_id": theirs})

    assert list(HistoryEntry.objects.filter(user=other_listener)) == [their_entry]
    assert list(HistoryEntry.objects.filter(user=user).values_list("track_id", flat=True)) == [
        theirs
    ]


def test_a_get_of_an_action_url_goes_to_its_page_and_changes_nothing(listener_web, user):
    # (These answered an empty 405 before: the address a failed form is shown at must stay
    # usable when the listener reloads it.)
    history_entries_add(user=user, track_ids=_track_ids(2))
    entry = HistoryEntry.objects.filter(user=user).first()

    for url, page in [
        (ADD, PAGE),
        (CLEAR, PAGE + "#clear"),
        (f"/history/{entry.pk}/remove/", PAGE),
        ("/history/imports/upload/", "/history/imports/"),
        ("/history/imports/1/offer/", "/history/imports/"),
        ("/history/imports/1/undo/", "/history/imports/"),
    ]:
        answer = listener_web.get(url)
        assert (answer.status_code, answer["Location"]) == (302, page), url
    assert listener_web.put(ADD).status_code == 405
    assert HistoryEntry.objects.filter(user=user).count() == 2
