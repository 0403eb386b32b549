"""The playlist services: create, edit, delete; add, remove, move and reorder tracks; limits,
refusals that change nothing, and concurrent changes with real threads."""

from __future__ import annotations

import random
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from catalog.models import Track
from history.models import Interaction
from musicrec.errors import ApplicationError
from playlists import models as playlist_models
from playlists.models import RANK_STEP, Origin, Playlist, PlaylistTrack
from playlists.selectors.playlists import playlist_get, playlist_list, playlist_track_ids
from playlists.services.playlists import (
    playlist_create,
    playlist_delete,
    playlist_reorder,
    playlist_track_move,
    playlist_track_remove,
    playlist_tracks_add,
    playlist_update,
)

pytestmark = pytest.mark.django_db


def _track_ids(n: int) -> list[int]:
    return list(Track.objects.order_by("id").values_list("id", flat=True)[:n])


@pytest.fixture
def ids() -> list[int]:
    return _track_ids(8)


@pytest.fixture
def playlist(listener, ids) -> Playlist:
    return playlist_create(owner=listener, name="Road trip", track_ids=ids[:5])


def _code(call) -> str:
    with pytest.raises(ApplicationError) as caught:
        call()
    return caught.value.code


def test_a_created_playlist_keeps_its_tracks_in_order_without_repeats(listener, ids):
    playlist = playlist_create(
        owner=listener,
        name="  Mix  ",
        description="For the road, “quoted”, 日本語",
        track_ids=[ids[2], ids[0], ids[2], ids[1]],
    )

    assert playlist.name == "Mix"
    assert playlist.origin == Origin.MANUAL and playlist.is_public is False
    assert playlist_track_ids(playlist_id=playlist.pk) == [ids[2], ids[0], ids[1]]
    # a playlist made for the listener records nothing on their behalf
    assert not Interaction.objects.filter(user=listener).exists()


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "ok", "description": "x" * 2001}, "description"),
    ],
)
def test_a_bad_name_or_description_is_refused_and_nothing_is_stored(listener, fields, bad):
    with pytest.raises(ValidationError) as caught:
        playlist_create(owner=listener, **fields)

    assert bad in caught.value.message_dict
    assert not Playlist.objects.exists()


def test_unknown_tracks_are_not_found_and_nothing_is_stored(listener, ids):
    code = _code(lambda: playlist_create(owner=listener, name="x", track_ids=[ids[0], 10**9]))

    assert code == "not_found"
    assert not Playlist.objects.exists()


def test_the_listener_playlist_limit(listener, monkeypatch):
    monkeypatch.setattr("playlists.services.playlists.PLAYLISTS_PER_LISTENER_MAX", 2)
    playlist_create(owner=listener, name="one")
    playlist_create(owner=listener, name="two")

    assert _code(lambda: playlist_create(owner=listener, name="three")) == (
        "playlist_limit_reached"
    )
    assert Playlist.objects.filter(owner=listener).count() == 2


def test_adding_at_the_end_and_at_a_position_records_add_to_playlist(listener, playlist, ids):
    playlist_tracks_add(user=listener, playlist_id=playlist.pk, track_ids=[ids[5]])
    added = playlist_tracks_add(
        user=listener, playlist_id=playlist.pk, track_ids=[ids[6], ids[7]], position=1
    )

    assert added.count == 8
    assert playlist_track_ids(playlist_id=playlist.pk) == [ids[6], ids[7], *ids[:5], ids[5]]
    recorded = Interaction.objects.filter(user=listener, kind="add_to_playlist")
    assert sorted(recorded.values_list("track_id", flat=True)) == sorted(ids[5:8])


def test_a_track_already_there_is_a_conflict_and_nothing_is_added(listener, playlist, ids):
    assert (
        _code(
            lambda: playlist_tracks_add(
                user=listener, playlist_id=playlist.pk, track_ids=[ids[6], ids[0]]
            )
        )
        == "already_in_playlist"
    )
    assert playlist_track_ids(playlist_id=playlist.pk) == ids[:5]
    assert not Interaction.objects.exists()


@pytest.mark.parametrize("position", [0, 7, -1, True, "2"])
def test_a_position_outside_the_playlist_is_refused(listener, playlist, ids, position):
    code = _code(
        lambda: playlist_tracks_add(
            user=listener, playlist_id=playlist.pk, track_ids=[ids[6]], position=position
        )
    )

    assert code == "invalid_position"
    assert playlist_track_ids(playlist_id=playlist.pk) == ids[:5]


def test_a_full_playlist_refuses_more(listener, monkeypatch, ids):
    monkeypatch.setattr("playlists.services.playlists.PLAYLIST_TRACKS_MAX", 6)
    playlist = playlist_create(owner=listener, name="small", track_ids=ids[:5])

    code = _code(
        lambda: playlist_tracks_add(user=listener, playlist_id=playlist.pk, track_ids=ids[5:7])
    )

    assert code == "playlist_full"
    assert playlist_track_ids(playlist_id=playlist.pk) == ids[:5]
    playlist_tracks_add(user=listener, playlist_id=playlist.pk, track_ids=[ids[5]])
    assert len(playlist_track_ids(playlist_id=playlist.pk)) == 6


def test_removing_closes_the_gap_and_an_absent_track_is_not_found(listener, playlist, ids):
    left = playlist_track_remove(user=listener, playlist_id=playlist.pk, track_id=ids[1])

    assert left == 4
    assert playlist_track_ids(playlist_id=playlist.pk) == [ids[0], *ids[2:5]]
    assert (
        _code(
            lambda: playlist_track_remove(user=listener, playlist_id=playlist.pk, track_id=ids[1])
        )
        == "not_found"
    )


@pytest.mark.parametrize(
    ("track", "position", "expected"),
    [
        (3, 1, [3, 0, 1, 2, 4]),  # to first
        (1, 5, [0, 2, 3, 4, 1]),  # to last
        (2, 3, [0, 1, 2, 3, 4]),  # the same place
        (0, 3, [1, 2, 0, 3, 4]),  # down
        (4, 2, [0, 4, 1, 2, 3]),  # up
    ],
)
def test_a_move_puts_one_track_at_its_new_place(listener, playlist, ids, track, position, expected):
    before = dict(PlaylistTrack.objects.values_list("track_id", "rank"))

    order = playlist_track_move(
        user=listener, playlist_id=playlist.pk, track_id=ids[track], position=position
    )

    assert order == playlist_track_ids(playlist_id=playlist.pk) == [ids[i] for i in expected]
    # one row written: only the moved entry's rank changed
    after = dict(PlaylistTrack.objects.values_list("track_id", "rank"))
    assert {t for t in after if after[t] != before[t]} <= {ids[track]}


def test_moves_into_one_gap_until_it_is_exhausted_renumber_and_keep_the_order(listener, ids):
    playlist = playlist_create(owner=listener, name="gap", track_ids=ids[:3])
    expected = ids[:3]
    # moving the last track to second place again and again halves one gap each time
    for _ in range(RANK_STEP.bit_length() + 3):
        moved = expected[-1]
        expected = [expected[0], moved, *expected[1:-1]]
        assert (
            playlist_track_move(user=listener, playlist_id=playlist.pk, track_id=moved, position=2)
            == expected
        )
        assert playlist_track_ids(playlist_id=playlist.pk) == expected
    ranks = list(PlaylistTrack.objects.order_by("rank").values_list("rank", flat=True))
    assert len(set(ranks)) == 3


@pytest.mark.parametrize(
    ("order", "problem"),
    [
        ([0, 1, 2, 3], "missing"),
        ([0, 1, 2, 3, 4, 6], "unexpected"),
        ([0, 1, 2, 3, 4, 4], "repeated"),
        ([], "missing"),
    ],
)
def test_a_wrong_or_incomplete_order_is_refused_and_changes_nothing(
    listener, playlist, ids, order, problem
):
    with pytest.raises(ApplicationError) as caught:
        playlist_reorder(user=listener, playlist_id=playlist.pk, track_ids=[ids[i] for i in order])

    assert caught.value.code == "invalid_order"
    assert caught.value.extra[problem]
    assert playlist_track_ids(playlist_id=playlist.pk) == ids[:5]


def test_a_full_order_is_stored(listener, playlist, ids):
    wanted = [ids[4], ids[2], ids[0], ids[3], ids[1]]

    assert playlist_reorder(user=listener, playlist_id=playlist.pk, track_ids=wanted) == wanted
    assert playlist_track_ids(playlist_id=playlist.pk) == wanted


def test_edits_and_deletes_are_the_owner_s_only(listener, other_listener, playlist):
    # another listener cannot see a private playlist: not found, as if it did not exist
    for call in (
        lambda: playlist_update(user=other_listener, playlist_id=playlist.pk, name="mine"),
        lambda: playlist_delete(user=other_listener, playlist_id=playlist.pk),
        lambda: playlist_get(viewer=other_listener, playlist_id=playlist.pk),
    ):
        assert _code(call) == "not_found"
    # once public they can read it, and still not change it
    playlist_update(user=listener, playlist_id=playlist.pk, is_public=True)
    assert playlist_get(viewer=other_listener, playlist_id=playlist.pk).pk == playlist.pk
    assert (
        _code(
            lambda: playlist_track_remove(user=other_listener, playlist_id=playlist.pk, track_id=1)
        )
        == "forbidden"
    )
    assert [p.pk for p in playlist_list(viewer=other_listener, owner=listener)] == [playlist.pk]
    playlist.refresh_from_db()
    assert playlist.name == "Road trip"


def test_an_unknown_field_cannot_be_edited(listener, playlist):
    with pytest.raises(ValidationError) as caught:
        playlist_update(user=listener, playlist_id=playlist.pk, owner=None)

    assert "owner" in caught.value.message_dict


def test_list_totals(listener, playlist, ids):
    (listed,) = playlist_list(viewer=listener)

    assert listed.track_count == 5
    assert listed.duration_ms == sum(
        Track.objects.filter(pk__in=ids[:5]).values_list("duration_ms", flat=True)
    )


# --------------------------------------------------------------------------- concurrency


def _in_threads(calls, workers: int = 16) -> list:
    results: list = []
    lock = threading.Lock()
    pending = list(calls)

    def worker():
        try:
            while True:
                with lock:
                    if not pending:
                        return
                    call = pending.pop()
                try:
                    outcome = call()
                except ApplicationError as exc:
                    outcome = exc.code
                with lock:
                    results.append(outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_reorders_and_adds_leave_no_gap_or_duplicate(django_user_model):
    owner = django_user_model.objects.create_user("mover", "m@example.com", "pw-Mover-4242")
    tracks = Track.objects.bulk_create(
        Track(spotify_id=f"MoveTrack{i:013d}", title=f"Move {i}", duration_ms=1000)
        for i in range(40)
    )
    ids = [t.pk for t in tracks]
    playlist = playlist_create(owner=owner, name="busy", track_ids=ids[:20])
    shuffler = random.Random(7)
    calls = []
    for i in range(120):
        if i % 6 == 0:
            order = ids[:20]
            shuffler.shuffle(order)
            # a full order may meet tracks added meanwhile: then it is refused as incomplete
            calls.append(
                lambda order=order: playlist_reorder(
                    user=owner, playlist_id=playlist.pk, track_ids=order
                )
            )
        elif i % 6 == 1 and i // 6 < 20:
            track_id = ids[20 + i // 6]
            calls.append(
                lambda track_id=track_id: playlist_tracks_add(
                    user=owner,
                    playlist_id=playlist.pk,
                    track_ids=[track_id],
                    position=1,
                    record=False,
                )
            )
        else:
            track_id, position = shuffler.choice(ids[:20]), shuffler.randint(1, 20)
            calls.append(
                lambda t=track_id, p=position: playlist_track_move(
                    user=owner, playlist_id=playlist.pk, track_id=t, position=p
                )
            )

    results = _in_threads(calls)

    assert len(results) == 120
    assert {r for r in results if isinstance(r, str)} <= {"invalid_order"}
    entries = list(PlaylistTrack.objects.filter(playlist=playlist).values_list("track_id", "rank"))
    assert len(entries) == 40  # every add landed
    assert len({t for t, _ in entries}) == 40 and len({r for _, r in entries}) == 40
    assert playlist_models.PlaylistTrack.objects.filter(playlist=playlist).count() == 40
