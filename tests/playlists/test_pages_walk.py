"""What a new listener tripped on when walking the playlist pages (issue #13): messages and empty
states that say what to do next."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Track
from playlists.models import Playlist
from playlists.services.playlists import playlist_create

pytestmark = pytest.mark.django_db


def _messages(response) -> str:
    area = re.search(r'<ul class="messages">(.*?)</ul>', response.content.decode(), re.DOTALL)
    return area.group(1) if area else ""


def test_an_unticked_delete_says_to_tick_the_box_not_the_label_then_its_error(
    listener, listener_web
):
    playlist = playlist_create(owner=listener, name="Keep me")

    refused = listener_web.post(f"/playlists/{playlist.pk}/delete/", {})

    assert refused.status_code == 400
    message = _messages(refused)
    assert "Nothing was deleted: tick the box to confirm" in message
    assert "Yes, delete this playlist:" not in message
    assert Playlist.objects.filter(pk=playlist.pk).exists()


def test_an_import_without_a_file_says_to_choose_one(listener_web):
    response = listener_web.post("/playlists/import/", {})

    assert response.status_code == 400
    assert "Choose a playlist file to import." in _messages(response)
    assert "This field is required" not in response.content.decode()


def test_an_empty_import_file_says_what_to_choose(listener_web):
    upload = SimpleUploadedFile("empty.m3u", b"", content_type="audio/x-mpegurl")

    response = listener_web.post("/playlists/import/", {"file": upload})

    assert response.status_code == 400
    assert "choose a playlist file that lists tracks" in _messages(response)


def test_the_owners_empty_public_page_says_how_to_make_a_playlist_public(listener, listener_web):
    playlist_create(owner=listener, name="Private one")

    page = listener_web.get(f"/playlists/by/{listener.username}/").content.decode()

    assert "None of your playlists is public yet." in page
    assert "tick Public" in page


def test_another_listeners_empty_public_page_just_says_so(listener, other_web):
    page = other_web.get(f"/playlists/by/{listener.username}/").content.decode()

    assert "No public playlists." in page
    assert "None of your playlists" not in page


def test_the_reorder_help_only_comes_with_something_to_reorder(listener, listener_web):
    ids = list(Track.objects.order_by("id").values_list("id", flat=True)[:2])
    one = playlist_create(owner=listener, name="One", track_ids=ids[:1])
    two = playlist_create(owner=listener, name="Two", track_ids=ids)

    alone = listener_web.get(f"/playlists/{one.pk}/").content.decode()
    pair = listener_web.get(f"/playlists/{two.pk}/").content.decode()

    assert "reorder-help" not in alone  # one track: nothing to drag, both buttons disabled
    assert "Drag a track to move it" in pair
    assert "Move a track with its ↑ ↓ buttons." in pair  # the narrow screens' words


def test_the_track_page_offers_its_radio_outside_the_playlist_menu(listener_web):
    track = Track.objects.order_by("id").first()

    page = listener_web.get(f"/tracks/{track.pk}/").content.decode()

    radio = f'href="/playlists/generate/?kind=radio&amp;seed_track_id={track.pk}"'
    assert page.count(radio) == 1
    menu = re.search(r'<details class="playlist-add".*?</details>', page, re.DOTALL)
    assert menu is not None and radio not in menu.group(0)
