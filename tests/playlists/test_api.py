"""The playlists API: list, create, read, edit, delete; add and remove tracks; reorder (moves
and full orders, refusals that change nothing, concurrent reorders); bodies that name unknown
fields; the constant number of queries of the lists. Who may do what on which playlist is
``test_api_permissions.py``."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from catalog.models import Track
from history.models import Interaction
from playlists.models import Playlist, PlaylistTrack
from playlists.selectors.playlists import playlist_track_ids
from playlists.services.playlists import playlist_create

pytestmark = pytest.mark.django_db

LIST = "/api/v1/playlists/"


def _url(playlist: Playlist, tail: str = "") -> str:
    return f"/api/v1/playlists/{playlist.pk}/{tail}"


@pytest.fixture
def ids() -> list[int]:
    return list(Track.objects.order_by("id").values_list("id", flat=True)[:8])


@pytest.fixture
def playlist(listener, ids) -> Playlist:
    return playlist_create(owner=listener, name="Road trip", track_ids=ids[:5])


# ------------------------------------------------------------------------------ list, create


def test_create_answers_the_new_playlist_private_and_empty(listener_api, listener):
    answer = listener_api.post(
        LIST, {"name": "  Late night  ", "description": "Slow, “quiet” 夜"}, format="json"
    )

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["name"] == "Late night"
    assert body["description"] == "Slow, “quiet” 夜"
    assert body["is_public"] is False
    assert body["origin"] == "manual"
    assert body["owner"] == {"id": listener.pk, "username": "listener"}
    assert (body["track_count"], body["duration_ms"], body["tracks"]) == (0, 0, [])
    assert body["origin_parameters"] == {}
    assert body["url"] == f"/playlists/{body['id']}/"
    assert Playlist.objects.get(pk=body["id"]).owner == listener


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 12}, "name"),
        ({"name": "ok", "is_public": "true"}, "is_public"),
        ({"name": "ok", "description": "d" * 2001}, "description"),
        ({"name": "ok", "public": True}, "public"),  # a misspelt field is named, not ignored
        ({"name": "ok", "origin": "radio"}, "origin"),  # not the client's to say
    ],
)
def test_create_refuses_a_bad_body_naming_the_field(listener_api, body, field):
    answer = listener_api.post(LIST, body, format="json")

    assert answer.status_code == 400
    assert field in answer.json()
    assert not Playlist.objects.exists()


def test_the_list_is_the_callers_own_newest_change_first_with_totals(
    listener_api, listener, other_listener, ids
):
    older = playlist_create(owner=listener, name="Older", track_ids=ids[:3])
    newer = playlist_create(owner=listener, name="Newer", is_public=True)
    playlist_create(owner=other_listener, name="Theirs", is_public=True)

    body = listener_api.get(LIST).json()

    assert body["count"] == 2
    assert [p["id"] for p in body["results"]] == [newer.pk, older.pk]
    first = body["results"][1]
    assert first["track_count"] == 3
    assert first["duration_ms"] == sum(
        Track.objects.filter(pk__in=ids[:3]).values_list("duration_ms", flat=True)
    )
    assert "tracks" not in first


def test_owner_parameter_lists_another_listeners_public_playlists_only(
    listener_api, other_listener
):
    public = playlist_create(owner=other_listener, name="Shared", is_public=True)
    playlist_create(owner=other_listener, name="Secret")

    body = listener_api.get(LIST, {"owner": "OTHER"}).json()  # usernames in any case

    assert [p["id"] for p in body["results"]] == [public.pk]
    assert body["results"][0]["owner"]["username"] == "other"


def test_owner_parameter_naming_oneself_lists_all_of_ones_own(listener_api, listener):
    playlist_create(owner=listener, name="Secret")

    assert listener_api.get(LIST, {"owner": "listener"}).json()["count"] == 1


@pytest.mark.parametrize("owner", ["nobody", ""])
def test_owner_parameter_naming_no_listener_is_a_404(listener_api, owner):
    answer = listener_api.get(LIST, {"owner": owner})

    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


def _list_queries(api: APIClient, page_size: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        answer = api.get(LIST, {"page_size": page_size})
    assert answer.status_code == 200
    assert len(answer.json()["results"]) == page_size
    return len(queries)


def test_the_list_costs_the_same_queries_whatever_the_page_size(listener_api, listener, ids):
    for i in range(12):
        playlist_create(owner=listener, name=f"P{i}", track_ids=ids[: i % 5])

    assert _list_queries(listener_api, 2) == _list_queries(listener_api, 12)


def test_another_listeners_list_costs_the_same_queries_whatever_the_page_size(
    listener_api, other_listener, ids
):
    for i in range(12):
        playlist_create(owner=other_listener, name=f"P{i}", is_public=True, track_ids=ids[:3])

    def queries(page_size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            answer = listener_api.get(LIST, {"owner": "other", "page_size": page_size})
        assert len(answer.json()["results"]) == page_size
        return len(captured)

    assert queries(3) == queries(12)


def test_the_detail_costs_the_same_queries_whatever_the_length(listener_api, listener, ids):
    short = playlist_create(owner=listener, name="Short", track_ids=ids[:1])
    long = playlist_create(owner=listener, name="Long", track_ids=ids)

    def queries(playlist: Playlist) -> int:
        with CaptureQueriesContext(connection) as captured:
            answer = listener_api.get(_url(playlist))
        assert answer.status_code == 200
        return len(captured)

    assert queries(short) == queries(long)


# ------------------------------------------------------------------------- read, edit, delete


def test_detail_has_the_tracks_in_order_with_positions(listener_api, playlist, ids):
    body = listener_api.get(_url(playlist)).json()

    assert [entry["track"]["id"] for entry in body["tracks"]] == ids[:5]
    assert [entry["position"] for entry in body["tracks"]] == [1, 2, 3, 4, 5]
    assert body["track_count"] == 5
    assert body["tracks"][0]["track"]["artists"]  # the catalog's own track shape


def test_patch_changes_the_fields_given_and_keeps_the_others(listener_api, playlist):
    answer = listener_api.patch(_url(playlist), {"is_public": True}, format="json")

    assert answer.status_code == 200
    playlist.refresh_from_db()
    assert (playlist.is_public, playlist.name) == (True, "Road trip")
    assert answer.json()["is_public"] is True
    assert answer.json()["track_count"] == 5


def test_patch_with_a_bad_or_unknown_field_changes_nothing(listener_api, playlist):
    for body in ({"name": ""}, {"name": "ok", "owner": 3}, {"description": None}):
        answer = listener_api.patch(_url(playlist), body, format="json")
        assert answer.status_code == 400, body

    playlist.refresh_from_db()
    assert playlist.name == "Road trip"


def test_delete_removes_the_playlist_and_its_entries(listener_api, playlist):
    answer = listener_api.delete(_url(playlist))

    assert answer.status_code == 204
    assert not Playlist.objects.filter(pk=playlist.pk).exists()
    assert not PlaylistTrack.objects.filter(playlist_id=playlist.pk).exists()
    assert listener_api.get(_url(playlist)).status_code == 404


def test_an_id_beyond_any_is_a_404_not_an_error(listener_api):
    assert listener_api.get("/api/v1/playlists/99999999999999999999/").status_code == 404


# ------------------------------------------------------------------------------------ tracks


def test_add_one_track_at_the_end_records_an_interaction(listener_api, listener, playlist, ids):
    answer = listener_api.post(_url(playlist, "tracks/"), {"track_id": ids[6]}, format="json")

    assert answer.status_code == 201, answer.json()
    assert [e["track"]["id"] for e in answer.json()["tracks"]] == [*ids[:5], ids[6]]
    assert Interaction.objects.filter(
        user=listener, track_id=ids[6], kind=Interaction.Kind.ADD_TO_PLAYLIST
    ).exists()


def test_add_several_tracks_at_a_position(listener_api, playlist, ids):
    answer = listener_api.post(
        _url(playlist, "tracks/"), {"track_ids": [ids[7], ids[6]], "position": 2}, format="json"
    )

    assert answer.status_code == 201
    assert playlist_track_ids(playlist_id=playlist.pk) == [ids[0], ids[7], ids[6], *ids[1:5]]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"track_id": "first"}, 400, None),
        ({"track_ids": []}, 400, None),
        ({"track_ids": [1, 1]}, 400, None),
        ({}, 400, None),
        ({"position": 1}, 400, None),
        ({"track_id": 1, "extra": 1}, 400, None),
        ({"track_id": 1, "track_ids": [2]}, 400, None),
        ({"track_id": "ALREADY"}, 409, "already_in_playlist"),
        ({"track_id": "NEW", "position": 7}, 400, "invalid_position"),
        ({"track_id": 2**40}, 404, "not_found"),
    ],
)
def test_a_refused_add_says_why_and_adds_nothing(listener_api, playlist, ids, body, status, code):
    body = dict(body)
    if body.get("track_id") == "ALREADY":
        body["track_id"] = ids[0]
    elif body.get("track_id") == "NEW":
        body["track_id"] = ids[6]

    answer = listener_api.post(_url(playlist, "tracks/"), body, format="json")

    assert answer.status_code == status, answer.json()
    if code:
        assert answer.json()["code"] == code
    assert playlist_track_ids(playlist_id=playlist.pk) == ids[:5]


def test_remove_a_track_answers_the_rest_in_order(listener_api, playlist, ids):
    answer = listener_api.delete(_url(playlist, f"tracks/{ids[1]}/"))

    assert answer.status_code == 200
    assert [e["track"]["id"] for e in answer.json()["tracks"]] == [ids[0], *ids[2:5]]
    assert [e["position"] for e in answer.json()["tracks"]] == [1, 2, 3, 4]


@pytest.mark.parametrize("track_id", ["NOT_IN", 99999999999999999999])
def test_removing_a_track_not_in_the_playlist_is_a_404(listener_api, playlist, ids, track_id):
    if track_id == "NOT_IN":
        track_id = ids[7]

    answer = listener_api.delete(_url(playlist, f"tracks/{track_id}/"))

    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    assert playlist_track_ids(playlist_id=playlist.pk) == ids[:5]


# ----------------------------------------------------------------------------------- reorder


def _move(api: APIClient, playlist: Playlist, track_id: int, position: int):
    return api.post(
        _url(playlist, "reorder/"), {"track_id": track_id, "position": position}, format="json"
    )


def _order(answer) -> list[int]:
    return [entry["track"]["id"] for entry in answer.json()["tracks"]]


def test_move_to_first(listener_api, playlist, ids):
    answer = _move(listener_api, playlist, ids[3], 1)

    assert answer.status_code == 200
    expected = [ids[3], ids[0], ids[1], ids[2], ids[4]]
    assert _order(answer) == expected
    assert playlist_track_ids(playlist_id=playlist.pk) == expected


def test_move_to_last(listener_api, playlist, ids):
    answer = _move(listener_api, playlist, ids[0], 5)

    assert answer.status_code == 200
    assert playlist_track_ids(playlist_id=playlist.pk) == [*ids[1:5], ids[0]]
    assert _order(answer) == [*ids[1:5], ids[0]]


def test_move_to_the_same_place_changes_nothing(listener_api, playlist, ids):
    ranks = dict(PlaylistTrack.objects.filter(playlist=playlist).values_list("track_id", "rank"))

    answer = _move(listener_api, playlist, ids[2], 3)

    assert answer.status_code == 200
    assert _order(answer) == ids[:5]
    assert (
        dict(PlaylistTrack.objects.filter(playlist=playlist).values_list("track_id", "rank"))
        == ranks
    )


def test_a_full_order(listener_api, playlist, ids):
    wanted = [ids[4], ids[2], ids[0], ids[3], ids[1]]

    answer = listener_api.post(_url(playlist, "reorder/"), {"track_ids": wanted}, format="json")

    assert answer.status_code == 200
    assert _order(answer) == wanted
    assert playlist_track_ids(playlist_id=playlist.pk) == wanted


@pytest.mark.parametrize(
    ("body", "code", "named"),
    [
        # incomplete: a track left out
        (lambda ids: {"track_ids": ids[:4]}, "invalid_order", {"missing"}),
        # a track that is not in the playlist
        (lambda ids: {"track_ids": [*ids[:5], ids[6]]}, "invalid_order", {"unexpected"}),
        # a track named twice (refused by the body's own check)
        (lambda ids: {"track_ids": [*ids[:5], ids[0]]}, None, {"track_ids"}),
        (lambda ids: {"track_id": ids[0], "position": 6}, "invalid_position", {"last"}),
        (lambda ids: {"track_id": ids[6], "position": 1}, "not_found", set()),
        (lambda ids: {"track_id": ids[0]}, None, {"position"}),
        (lambda ids: {"track_ids": ids[:5], "track_id": ids[0], "position": 1}, None, set()),
        (lambda ids: {}, None, {"track_ids", "track_id"}),
        (lambda ids: {"order": ids[:5]}, None, {"track_ids"}),
        (lambda ids: {"track_id": ids[0], "position": "1"}, None, {"position"}),
        (lambda ids: {"track_id": ids[0], "position": 0}, None, {"position"}),
    ],
)
def test_a_wrong_or_incomplete_order_is_refused_and_nothing_changes(
    listener_api, playlist, ids, body, code, named
):
    ranks = dict(PlaylistTrack.objects.filter(playlist=playlist).values_list("track_id", "rank"))

    answer = listener_api.post(_url(playlist, "reorder/"), body(ids), format="json")

    assert answer.status_code == (404 if code == "not_found" else 400), answer.json()
    payload = answer.json()
    if code:
        assert payload["code"] == code
    assert named <= set(payload)
    assert (
        dict(PlaylistTrack.objects.filter(playlist=playlist).values_list("track_id", "rank"))
        == ranks
    )


def test_a_refused_full_order_names_what_is_wrong(listener_api, playlist, ids):
    answer = listener_api.post(
        _url(playlist, "reorder/"), {"track_ids": [*ids[1:5], ids[6]]}, format="json"
    )

    body = answer.json()
    assert (body["missing"], body["unexpected"], body["repeated"]) == ([ids[0]], [ids[6]], [])


@pytest.mark.django_db(transaction=True)
def test_concurrent_reorders_through_the_api_leave_one_complete_order(django_user_model):
    # given a playlist of 12 tracks and 16 clients moving and reordering it at once
    owner = django_user_model.objects.create_user("dj", "dj@example.com", "pw-Dj-4242-x")
    tracks = Track.objects.bulk_create(
        Track(spotify_id=f"ApiMove{i:015d}", title=f"Move {i}", duration_ms=1000) for i in range(12)
    )
    ids = [t.pk for t in tracks]
    playlist = playlist_create(owner=owner, name="busy", track_ids=ids)
    bodies = []
    for i in range(48):
        if i % 4 == 0:
            bodies.append({"track_ids": ids[i % 12 :] + ids[: i % 12]})
        else:
            bodies.append({"track_id": ids[(i * 5) % 12], "position": (i * 7) % 12 + 1})
    statuses: list[int] = []
    orders: list[list[int]] = []
    lock = threading.Lock()

    def client_work(chunk):
        api = APIClient()
        api.force_authenticate(owner)
        try:
            for body in chunk:
                answer = api.post(f"/api/v1/playlists/{playlist.pk}/reorder/", body, format="json")
                order = [e["track"]["id"] for e in answer.json()["tracks"]]
                with lock:
                    statuses.append(answer.status_code)
                    orders.append(order)
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=client_work, args=(bodies[i::16],)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then every request succeeded and the stored order has no gap and no repeat
    assert statuses == [200] * 48
    assert all(sorted(order) == sorted(ids) for order in orders)  # each a whole order
    rows = list(PlaylistTrack.objects.filter(playlist=playlist).values_list("track_id", "rank"))
    assert sorted(t for t, _ in rows) == sorted(ids)
    assert len({r for _, r in rows}) == 12


def test_writes_are_rate_limited_per_listener_like_the_other_endpoints(
    listener_api, other_api, monkeypatch
):
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {**SimpleRateThrottle.THROTTLE_RATES, "user": "2/minute"},
    )

    answers = [listener_api.post(LIST, {"name": f"P{i}"}, format="json") for i in range(3)]

    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].json()["code"] == "throttled"
    assert "Retry-After" in answers[2]
    assert Playlist.objects.count() == 2
    # another listener has a budget of their own
    assert other_api.post(LIST, {"name": "Theirs"}, format="json").status_code == 201
