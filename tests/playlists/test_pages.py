"""The playlist pages: lists, one playlist (moves by the up/down buttons and by the drag's JSON
request, remove, edit, delete), "add to playlist" on the pages that list tracks, the generate
form's validation and track picker, and escaping of user and catalog text."""

from __future__ import annotations

import importlib.util
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Track
from history.models import Interaction
from playlists.models import Playlist
from playlists.selectors.playlists import playlist_track_ids
from playlists.services.playlists import playlist_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def ids() -> list[int]:
    return list(Track.objects.order_by("id").values_list("id", flat=True)[:6])


@pytest.fixture
def playlist(listener, ids) -> Playlist:
    return playlist_create(owner=listener, name="Road trip", track_ids=ids[:4])


def _messages(response) -> str:
    area = re.search(r'<ul class="messages">(.*?)</ul>', response.content.decode(), re.DOTALL)
    return area.group(1) if area else ""


# --------------------------------------------------------------------------- lists


def test_the_list_shows_count_duration_visibility_and_origin(listener, listener_web, ids):
    tracks = Track.objects.filter(pk__in=ids[:2])
    total_s = sum(t.duration_ms for t in tracks) // 1000
    playlist_create(owner=listener, name="Two", is_public=True, track_ids=ids[:2])

    page = listener_web.get("/playlists/").content.decode()

    assert "2 tracks" in page
    assert f"{total_s // 60}:{total_s % 60:02d}" in page
    assert "Public" in page
    assert "Made by hand" in page
    assert 'href="/playlists/new/"' in page


def test_the_nav_links_to_playlists(listener_web):
    page = listener_web.get("/playlists/").content.decode()
    assert re.search(r'<a href="/playlists/" aria-current="page">Playlists</a>', page)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in ("/playlists/", "/playlists/generate/", "/playlists/import/", "/playlists/new/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


# --------------------------------------------------------------------------- create


def test_a_new_playlist_with_a_track_records_the_add(listener, listener_web, ids):
    response = listener_web.post(
        "/playlists/new/", {"name": "Fresh", "description": "", "track_id": ids[0]}
    )

    playlist = Playlist.objects.get(owner=listener, name="Fresh")
    assert response.url == f"/playlists/{playlist.pk}/"
    assert playlist_track_ids(playlist_id=playlist.pk) == [ids[0]]
    assert Interaction.objects.filter(
        user=listener, track_id=ids[0], kind=Interaction.Kind.ADD_TO_PLAYLIST
    ).exists()


def test_the_new_form_names_the_track_it_starts_with(listener_web, ids):
    title = Track.objects.get(pk=ids[0]).title
    page = listener_web.get(f"/playlists/new/?track_id={ids[0]}").content.decode()
    assert "Starting with" in page
    assert f'name="track_id" value="{ids[0]}"' in page
    assert title.replace("&", "&amp;").replace("'", "&#x27;") in page


def test_a_new_playlist_without_a_name_is_refused(listener, listener_web):
    response = listener_web.post("/playlists/new/", {"name": "   "})

    assert response.status_code == 400
    assert "No playlist was made." in _messages(response)
    assert not Playlist.objects.filter(owner=listener).exists()


# --------------------------------------------------------------------------- one playlist


def test_the_detail_page_lists_tracks_in_order_with_durations(listener_web, playlist, ids):
    page = listener_web.get(f"/playlists/{playlist.pk}/").content.decode()

    rows = re.findall(r'<li class="playlist-entry" id="entry-(\d+)"', page)
    assert [int(r) for r in rows] == ids[:4]
    assert 'draggable="true"' in page
    assert "js/playlist-reorder.js" in page
    for fmt in ("m3u", "jspf", "csv"):
        assert f'href="/playlists/{playlist.pk}/export/{fmt}/"' in page
    # the first track's up and the last's down are disabled
    assert re.search(r'aria-label="Move “[^”]*” up" disabled', page)
    assert re.search(r'aria-label="Move “[^”]*” down" disabled', page)


def test_another_listeners_public_playlist_is_read_only(other_web, listener, ids):
    public = playlist_create(owner=listener, name="Shared", is_public=True, track_ids=ids[:2])

    page = other_web.get(f"/playlists/{public.pk}/").content.decode()

    assert 'By <a href="/playlists/by/listener/">listener</a>' in page
    assert 'draggable="true"' not in page
    assert "/move/" not in page and "/remove/" not in page and "/delete/" not in page
    assert "Rename" not in page


def test_the_up_button_moves_a_track_and_comes_back_to_it(listener_web, playlist, ids):
    response = listener_web.post(
        f"/playlists/{playlist.pk}/move/", {"track_id": ids[2], "position": 2}
    )

    assert response.url == f"/playlists/{playlist.pk}/#entry-{ids[2]}"
    assert playlist_track_ids(playlist_id=playlist.pk) == [ids[0], ids[2], ids[1], ids[3]]


def test_the_drag_gets_the_new_order_as_json(listener_web, playlist, ids):
    response = listener_web.post(
        f"/playlists/{playlist.pk}/move/",
        {"track_id": ids[0], "position": 4},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 200
    assert response.json() == {"order": [ids[1], ids[2], ids[3], ids[0]]}
    assert playlist_track_ids(playlist_id=playlist.pk) == [ids[1], ids[2], ids[3], ids[0]]


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({"track_id": "x", "position": 1}, 400, "invalid"),
        ({"position": 1}, 400, "invalid"),
        ("past-the-end", 400, "invalid_position"),
        ("not-in-it", 404, "not_found"),
    ],
)
def test_a_refused_drag_is_answered_in_json_and_changes_nothing(
    listener_web, playlist, ids, data, status, code
):
    if data == "past-the-end":
        data = {"track_id": ids[0], "position": 5}
    elif data == "not-in-it":
        data = {"track_id": ids[5], "position": 1}

    response = listener_web.post(
        f"/playlists/{playlist.pk}/move/", data, HTTP_ACCEPT="application/json"
    )

    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["error"]
    assert playlist_track_ids(playlist_id=playlist.pk) == ids[:4]


def test_a_move_past_the_end_without_javascript_is_a_message(listener_web, playlist, ids):
    response = listener_web.post(
        f"/playlists/{playlist.pk}/move/",
        {"track_id": ids[0], "position": 9},
        HTTP_REFERER=f"http://testserver/playlists/{playlist.pk}/",
        follow=True,
    )

    assert "The position must be a whole number from 1 to 4." in _messages(response)
    assert playlist_track_ids(playlist_id=playlist.pk) == ids[:4]


def test_a_get_of_an_action_address_goes_to_a_page(listener_web, playlist):
    response = listener_web.get(f"/playlists/{playlist.pk}/move/")
    assert response.status_code == 302 and response.url == "/playlists/"


def test_remove(listener_web, playlist, ids):
    response = listener_web.post(
        f"/playlists/{playlist.pk}/remove/", {"track_id": ids[1]}, follow=True
    )

    assert "3 tracks left" in _messages(response)
    assert playlist_track_ids(playlist_id=playlist.pk) == [ids[0], ids[2], ids[3]]


def test_edit_name_description_and_visibility(listener_web, playlist):
    response = listener_web.post(
        f"/playlists/{playlist.pk}/edit/",
        {"name": "Night drive", "description": "Slow ones", "is_public": "on"},
    )

    assert response.status_code == 302
    playlist.refresh_from_db()
    assert (playlist.name, playlist.description, playlist.is_public) == (
        "Night drive",
        "Slow ones",
        True,
    )


def test_an_edit_with_an_empty_name_is_shown_again(listener_web, playlist):
    response = listener_web.post(f"/playlists/{playlist.pk}/edit/", {"name": ""})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved." in _messages(response)
    assert '<details class="panel playlist-edit" open>' in page
    playlist.refresh_from_db()
    assert playlist.name == "Road trip"


def test_delete_needs_the_confirmation(listener_web, playlist):
    page = listener_web.get(f"/playlists/{playlist.pk}/delete/").content.decode()
    assert "Delete “Road trip”?" in page

    refused = listener_web.post(f"/playlists/{playlist.pk}/delete/", {})
    assert refused.status_code == 400
    assert Playlist.objects.filter(pk=playlist.pk).exists()

    done = listener_web.post(f"/playlists/{playlist.pk}/delete/", {"confirm": "on"})
    assert done.url == "/playlists/"
    assert not Playlist.objects.filter(pk=playlist.pk).exists()


# --------------------------------------------------------------------------- add to playlist


def test_the_track_page_offers_the_listeners_playlists_and_marks_the_ones_holding_it(
    listener, listener_web, playlist, ids
):
    other = playlist_create(owner=listener, name="Other list")

    page = listener_web.get(f"/tracks/{ids[0]}/").content.decode()

    menu = page[page.index('<details class="playlist-add"') :]
    menu = menu[: menu.index("</details>")]
    assert f'<option value="{playlist.pk}" disabled>✓ Road trip (already in)</option>' in menu
    assert f'<option value="{other.pk}">Other list</option>' in menu
    assert f'href="/playlists/new/?track_id={ids[0]}"' in menu
    radio = f"/playlists/generate/?kind=radio&amp;seed_track_id={ids[0]}"
    assert radio in page and radio not in menu  # beside the menu, in plain sight


def test_add_to_playlist_from_search_results_records_the_add(listener, listener_web, playlist, ids):
    track = Track.objects.get(pk=ids[5])
    search = listener_web.get("/search/", {"q": track.title}).content.decode()
    assert f'data-playlist-add-for="{track.pk}"' in search

    response = listener_web.post(
        "/playlists/add/",
        {
            "track_id": track.pk,
            "playlist_id": playlist.pk,
            "next": f"/search/?q=x#track-{track.pk}",
        },
    )

    assert response.url == f"/search/?q=x#track-{track.pk}"
    assert playlist_track_ids(playlist_id=playlist.pk)[-1] == track.pk
    assert Interaction.objects.filter(
        user=listener, track_id=track.pk, kind=Interaction.Kind.ADD_TO_PLAYLIST
    ).exists()


def test_adding_a_track_already_there_is_a_message(listener_web, playlist, ids):
    response = listener_web.post(
        "/playlists/add/",
        {"track_id": ids[0], "playlist_id": playlist.pk, "next": "/search/?q=x"},
        follow=True,
    )

    assert "That track is already in this playlist." in _messages(response)
    assert playlist_track_ids(playlist_id=playlist.pk) == ids[:4]


def test_the_menus_of_a_search_page_cost_two_queries(
    listener, listener_web, playlist, django_assert_max_num_queries
):
    track = Track.objects.order_by("id").first()
    listener_web.get("/search/", {"q": track.title})  # warm
    with django_assert_max_num_queries(200) as counted:
        listener_web.get("/search/", {"q": "love"})
    menus = [q["sql"] for q in counted.captured_queries if "playlists_playlist" in q["sql"]]
    assert len(menus) == 2, menus


def test_anonymous_search_results_have_no_menu(client, ids):
    track = Track.objects.get(pk=ids[0])
    page = client.get("/search/", {"q": track.title}).content.decode()
    assert "playlist-add" not in page


# --------------------------------------------------------------------------- generate


def test_the_generate_form_takes_a_track_page_link(listener_web, ids):
    track = Track.objects.get(pk=ids[0])
    page = listener_web.get(f"/playlists/generate/?kind=radio&seed_track_id={ids[0]}").content
    page = page.decode()

    assert 'value="radio" checked' in page or re.search(r'value="radio"[^>]*checked', page)
    assert f'name="seed_track_id" value="{ids[0]}"' in page
    assert "<strong>" + track.title.replace("&", "&amp;").replace("'", "&#x27;") in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "radio", "length": 20}, "seed_track_id", "Choose a track or an artist"),
        ({"kind": "mood", "length": 20}, "mood", "Choose a mood, an activity or both."),
        ({"kind": "path", "length": 20}, "from_track_id", "Choose the track the path starts"),
        ({"kind": "recommendations", "length": 4}, "length", "greater than or equal to 5"),
        ({"kind": "recommendations", "length": 101}, "length", "less than or equal to 100"),
        ({"kind": "sideways", "length": 20}, "kind", "Select a valid choice"),
    ],
)
def test_the_generate_form_says_what_is_missing(listener, listener_web, data, field, message):
    response = listener_web.post("/playlists/generate/", data)

    assert response.status_code == 400
    assert "No playlist was made." in _messages(response)
    assert message in response.content.decode()
    assert not Playlist.objects.filter(owner=listener).exists()


def test_an_artist_page_offers_a_radio_and_the_form_names_the_artist(listener_web, ids):
    track = Track.objects.get(pk=ids[0])
    artist = track.artist_list[0]
    page = listener_web.get(f"/artists/{artist.pk}/").content.decode()
    assert f'href="/playlists/generate/?kind=radio&amp;seed_artist_id={artist.pk}"' in page

    form = listener_web.get(f"/playlists/generate/?kind=radio&seed_artist_id={artist.pk}")

    html = form.content.decode()
    assert f'name="seed_artist_id" value="{artist.pk}"' in html
    assert "Or the artist: <strong>" in html


def test_a_path_needs_two_different_tracks(listener_web, ids):
    response = listener_web.post(
        "/playlists/generate/",
        {"kind": "path", "length": 10, "from_track_id": ids[0], "to_track_id": ids[0]},
    )
    assert response.status_code == 400
    assert "Choose an end track other than the start." in response.content.decode()


def test_the_picker_without_javascript_is_a_page_of_links_back_to_the_form(listener_web, ids):
    track = Track.objects.get(pk=ids[0])
    # the form's "Find" button sends the whole form (its CSRF token too, which is dropped)
    response = listener_web.get(
        "/playlists/generate/pick/",
        {
            "csrfmiddlewaretoken": "x",
            "kind": "path",
            "length": "12",
            "from_track_id": str(ids[1]),
            "q_to_track_id": track.title,
            "field": "to_track_id",
        },
    )
    assert response.status_code == 302 and "csrfmiddlewaretoken" not in response.url

    page = listener_web.get(response.url).content.decode()

    assert "Choose the end track" in page
    link = re.search(rf'href="(/playlists/generate/\?[^"]*to_track_id={track.pk})"', page)
    assert link is not None
    back = link.group(1).replace("&amp;", "&")
    assert "kind=path" in back and "length=12" in back and f"from_track_id={ids[1]}" in back
    form = listener_web.get(back).content.decode()
    assert f'name="to_track_id" value="{track.pk}"' in form
    assert f'name="from_track_id" value="{ids[1]}"' in form


def test_the_picker_as_you_type_answers_the_results_only(listener_web, ids):
    track = Track.objects.get(pk=ids[0])
    response = listener_web.get(
        "/playlists/generate/pick/",
        {"q_from_track_id": track.title, "field": "from_track_id"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert "<html" not in page
    assert f'data-pick-id="{track.pk}"' in page
    assert 'data-pick-field="from_track_id"' in page


# --------------------------------------------------------------------------- escaping


def test_user_and_catalog_text_is_escaped(listener, listener_web, other_web, ids):
    evil = '<script>alert("x")</script>'
    playlist = playlist_create(
        owner=listener, name=evil, description=evil, is_public=True, track_ids=ids[:1]
    )
    Track.objects.filter(pk=ids[0]).update(title=evil)

    pages = [
        listener_web.get("/playlists/").content.decode(),
        listener_web.get(f"/playlists/{playlist.pk}/").content.decode(),
        listener_web.get(f"/playlists/{playlist.pk}/delete/").content.decode(),
        listener_web.get(f"/tracks/{ids[1]}/").content.decode(),  # the menu names it
        other_web.get(f"/playlists/by/{listener.username}/").content.decode(),
        listener_web.get(
            f"/playlists/generate/?kind=radio&seed_track_id={ids[0]}"
        ).content.decode(),
    ]

    for page in pages:
        assert evil not in page
        assert "&lt;script&gt;" in page


# ------------------------------------------------------------------ generate, export, import

needs_generation = pytest.mark.skipif(
    importlib.util.find_spec("playlists.services.generate") is None,
    reason="the generator lands with the generation helper",
)
needs_transfer = pytest.mark.skipif(
    importlib.util.find_spec("playlists.selectors.transfer") is None,
    reason="export and import land with the import/export helper",
)


@needs_generation
def test_generating_a_radio_opens_the_new_playlist(listener, listener_web, ids):
    response = listener_web.post(
        "/playlists/generate/",
        {"kind": "radio", "length": 8, "seed_track_id": ids[0], "seed": 7},
    )

    playlist = Playlist.objects.get(owner=listener)
    assert response.status_code == 302 and response.url == f"/playlists/{playlist.pk}/"
    assert playlist.origin == "radio"
    assert len(playlist_track_ids(playlist_id=playlist.pk)) == 8


@needs_generation
def test_the_generators_refusal_is_shown_by_its_field(listener, listener_web):
    response = listener_web.post(
        "/playlists/generate/", {"kind": "radio", "length": 8, "seed_track_id": 10**12}
    )

    assert response.status_code == 400
    assert "No playlist was made." in _messages(response)
    assert not Playlist.objects.filter(owner=listener).exists()


@needs_transfer
def test_export_downloads_a_file_named_after_the_playlist(listener_web, playlist, ids):
    response = listener_web.get(f"/playlists/{playlist.pk}/export/m3u/")

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        "attachment; filename=\"Road-trip.m3u8\"; filename*=UTF-8''Road%20trip.m3u8"
    )
    body = response.content.decode()
    assert body.startswith("#EXTM3U")
    assert body.count("#EXTINF:") == 4


@needs_transfer
def test_an_unknown_export_format_is_not_found(listener_web, playlist):
    assert listener_web.get(f"/playlists/{playlist.pk}/export/xml/").status_code == 404


@needs_transfer
def test_import_then_the_report_of_what_did_not_match(listener, listener_web, playlist, ids):
    exported = listener_web.get(f"/playlists/{playlist.pk}/export/m3u/").content
    unknown = b"#EXTINF:200,Nobody Here - <b>No Such Song</b>\nhttps://example.com/x\n"
    upload = SimpleUploadedFile("mix.m3u", exported + unknown, content_type="audio/x-mpegurl")

    response = listener_web.post("/playlists/import/", {"file": upload, "name": "Back again"})

    imported = Playlist.objects.get(owner=listener, name="Back again")
    assert response.url == f"/playlists/{imported.pk}/imported/"
    assert playlist_track_ids(playlist_id=imported.pk) == ids[:4]
    report = listener_web.get(response.url).content.decode()
    assert "1 did not match." in report
    assert "&lt;b&gt;No Such Song&lt;/b&gt;" in report
    detail = listener_web.get(f"/playlists/{imported.pk}/").content.decode()
    assert "1 track of the imported file did not match" in detail


@needs_transfer
def test_a_bad_file_is_refused_with_a_message(listener, listener_web):
    upload = SimpleUploadedFile("notes.csv", b"\x00\x01 not a playlist", content_type="text/csv")

    response = listener_web.post("/playlists/import/", {"file": upload})

    assert response.status_code == 400
    assert "Nothing was imported." in _messages(response)
    assert not Playlist.objects.filter(owner=listener).exists()


def test_the_detail_page_costs_the_same_queries_whatever_the_length(
    listener, listener_web, django_assert_num_queries
):
    track_ids = list(Track.objects.order_by("id").values_list("id", flat=True)[:30])
    short = playlist_create(owner=listener, name="Short", track_ids=track_ids[:2])
    long = playlist_create(owner=listener, name="Long", track_ids=track_ids)
    listener_web.get(f"/playlists/{short.pk}/")  # warm (session, content types)

    with CaptureQueriesContext(connection) as short_queries:
        listener_web.get(f"/playlists/{short.pk}/")
    with django_assert_num_queries(len(short_queries)):
        response = listener_web.get(f"/playlists/{long.pk}/")

    assert response.content.decode().count('class="playlist-entry"') == 30


def test_uploads_share_the_apis_rate(listener, listener_web, playlist, throttle_rates):
    throttle_rates(playlist_imports="1/minute")
    exported = listener_web.get(f"/playlists/{playlist.pk}/export/m3u/").content

    first = listener_web.post(
        "/playlists/import/", {"file": SimpleUploadedFile("a.m3u", exported), "name": "One"}
    )
    second = listener_web.post(
        "/playlists/import/", {"file": SimpleUploadedFile("b.m3u", exported), "name": "Two"}
    )

    assert first.status_code == 302
    assert second.status_code == 429
    assert _messages(second)
    assert not Playlist.objects.filter(owner=listener, name="Two").exists()
