"""Playlists in the admin: curators browse, search and read them (entries in order), may
delete one, and change nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Track
from playlists.models import Playlist, PlaylistTrack
from playlists.services.playlists import playlist_create, playlist_track_move
from tests.accounts.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:playlists_playlist_changelist"


def _curator_web(*codenames: str) -> Client:
    curator = StaffFactory(username="playlist-curator")
    curator.user_permissions.set(
        Permission.objects.filter(content_type__app_label="playlists", codename__in=codenames)
    )
    web = Client()
    web.force_login(curator)
    return web


@pytest.fixture
def every_permission() -> Client:
    """Staff with every playlists permission: the admin must still refuse adds and changes."""
    return _curator_web(
        *Permission.objects.filter(content_type__app_label="playlists").values_list(
            "codename", flat=True
        )
    )


@pytest.fixture
def ids() -> list[int]:
    return list(Track.objects.order_by("id").values_list("id", flat=True)[:4])


@pytest.fixture
def ada_mix(ids) -> Playlist:
    ada = UserFactory(username="ada-lists")
    playlist = playlist_create(owner=ada, name="Ada's «mix»", is_public=True, track_ids=ids)
    playlist_track_move(user=ada, playlist_id=playlist.pk, track_id=ids[3], position=1)
    return playlist


def test_curators_list_playlists_with_owner_origin_and_counts(every_permission, ada_mix):
    page = every_permission.get(reverse(CHANGELIST))

    assert page.status_code == 200
    text = page.content.decode()
    assert "Ada&#x27;s «mix»" in text or "Ada's «mix»" in text
    assert "ada-lists" in text
    assert page.context["cl"].result_list[0].entry_count == 4


@pytest.mark.parametrize("query", ["ADA-LISTS", "«mix"])
def test_search_by_name_or_owner(every_permission, ada_mix, query):
    UserFactory(username="someone-else")
    playlist_create(owner=UserFactory(username="bob-lists"), name="Other")

    page = every_permission.get(reverse(CHANGELIST), {"q": query})

    assert [p.pk for p in page.context["cl"].result_list] == [ada_mix.pk]


def test_the_list_costs_the_same_queries_whatever_the_page_size(every_permission, ids):
    owner = UserFactory(username="many-lists")
    for i in range(8):
        playlist_create(owner=owner, name=f"P{i}", track_ids=ids[: i % 4])

    def queries(count: int) -> int:
        Playlist.objects.filter(pk__in=Playlist.objects.order_by("pk")[count:]).delete()
        with CaptureQueriesContext(connection) as captured:
            assert every_permission.get(reverse(CHANGELIST)).status_code == 200
        return len(captured)

    assert queries(8) == queries(2)


def test_a_playlists_page_shows_its_entries_in_order_read_only(every_permission, ada_mix, ids):
    page = every_permission.get(reverse("admin:playlists_playlist_change", args=[ada_mix.pk]))

    assert page.status_code == 200
    inline = page.context["inline_admin_formsets"][0]
    shown = [form.original.track_id for form in inline]
    assert shown == [ids[3], *ids[:3]]
    assert [form.original.place for form in inline] == [1, 2, 3, 4]
    assert b'name="name"' not in page.content  # no editable field
    assert b'type="submit" value="Save"' not in page.content


def test_curators_change_and_add_nothing(every_permission, ada_mix):
    change = reverse("admin:playlists_playlist_change", args=[ada_mix.pk])

    answer = every_permission.post(change, {"name": "Taken over", "is_public": ""})
    added = every_permission.get(reverse("admin:playlists_playlist_add"))

    assert answer.status_code == 403
    assert added.status_code == 403
    ada_mix.refresh_from_db()
    assert (ada_mix.name, ada_mix.is_public) == ("Ada's «mix»", True)


def test_a_curator_with_the_delete_permission_deletes_a_playlist(ada_mix):
    web = _curator_web("view_playlist", "delete_playlist")

    answer = web.post(
        reverse("admin:playlists_playlist_delete", args=[ada_mix.pk]), {"post": "yes"}
    )

    assert answer.status_code == 302
    assert not Playlist.objects.filter(pk=ada_mix.pk).exists()
    assert not PlaylistTrack.objects.filter(playlist_id=ada_mix.pk).exists()


def test_without_the_delete_permission_nothing_is_deleted(ada_mix):
    web = _curator_web("view_playlist")

    answer = web.post(
        reverse("admin:playlists_playlist_delete", args=[ada_mix.pk]), {"post": "yes"}
    )

    assert answer.status_code == 403
    assert Playlist.objects.filter(pk=ada_mix.pk).exists()


def test_staff_without_the_view_permission_see_no_playlist(ada_mix):
    web = _curator_web()

    assert web.get(reverse(CHANGELIST)).status_code == 403
    assert web.get(reverse("admin:playlists_playlist_change", args=[ada_mix.pk])).status_code == 403
