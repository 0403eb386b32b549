"""What the playlists app registers in the layers below it: its part of the listener's data
export, its /metrics figures; and what deleting an account does to the listener's playlists."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.selectors import listener_export
from catalog.models import Track
from musicrec import registry
from musicrec.jsonstream import iter_json
from playlists.models import Playlist, PlaylistTrack
from playlists.selectors import exports
from playlists.services.playlists import playlist_create, playlist_track_move
from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def ids() -> list[int]:
    return list(Track.objects.order_by("id").values_list("id", flat=True)[:4])


def test_the_data_export_has_every_playlist_of_the_listener_with_tracks_in_order(
    listener, other_listener, ids
):
    # given a private playlist reordered, a public one and another listener's
    mix = playlist_create(
        owner=listener, name='Mix, "quoted"\n日本', description="d", track_ids=ids[:3]
    )
    playlist_track_move(user=listener, playlist_id=mix.pk, track_id=ids[2], position=1)
    playlist_create(owner=listener, name="Empty", is_public=True)
    playlist_create(owner=other_listener, name="Not theirs", track_ids=ids)

    # when the export is written as the download writes it
    export = json.loads("".join(iter_json(listener_export(user=listener))))

    # then
    playlists = export["playlists"]
    assert [p["name"] for p in playlists] == ['Mix, "quoted"\n日本', "Empty"]
    first = playlists[0]
    assert [t["track_id"] for t in first["tracks"]] == [ids[2], ids[0], ids[1]]
    assert [t["position"] for t in first["tracks"]] == [1, 2, 3]
    track = Track.objects.get(pk=ids[2])
    assert first["tracks"][0]["title"] == track.title
    assert first["tracks"][0]["artists"] == [a.name for a in track.artist_list]
    assert (first["is_public"], first["origin"], first["description"]) == (False, "manual", "d")
    assert playlists[1]["tracks"] == [] and playlists[1]["is_public"] is True


def test_the_export_part_is_streamed_in_batches_of_constant_queries(listener, ids, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_BATCH_SIZE", 2)
    for i in range(5):
        playlist_create(owner=listener, name=f"P{i}", track_ids=ids[: i % 4])

    part = exports.listener_playlists_export(listener)["playlists"]
    with CaptureQueriesContext(connection) as first_batch:
        first = next(part)
    rest = list(part)

    assert not isinstance(part, list)  # an iterator: written as it is read
    assert [p["name"] for p in [first, *rest]] == [f"P{i}" for i in range(5)]
    assert len(first_batch) == 3  # playlists, their entries, the tracks' artists


def test_the_export_part_is_registered(listener):
    assert "playlists" in registry.listener_export_parts
    assert "playlists" in listener_export(user=listener)


def test_metrics_count_playlists_by_origin_and_visibility(listener):
    playlist_create(owner=listener, name="A", is_public=True)
    playlist_create(owner=listener, name="B")
    playlist_create(owner=listener, name="C", origin="radio")

    figures = {
        (family.name, tuple(sorted(sample.labels.items()))): sample.value
        for name, collect in registry.metrics_collectors.items()
        if name == "playlists"
        for family in collect()
        for sample in family.samples
    }

    manual = (("origin", "manual"), ("visibility", "public"))
    assert figures[("musicrec_playlists", manual)] == 1
    private = (("origin", "manual"), ("visibility", "private"))
    assert figures[("musicrec_playlists", private)] == 1
    radio = (("origin", "radio"), ("visibility", "private"))
    assert figures[("musicrec_playlists", radio)] == 1
    assert figures[("musicrec_playlists_public_share", ())] == pytest.approx(1 / 3)


def test_deleting_an_account_deletes_its_playlists_and_only_those(
    listener_api, listener, other_listener, ids
):
    mine = playlist_create(owner=listener, name="Mine", is_public=True, track_ids=ids)
    theirs = playlist_create(owner=other_listener, name="Theirs", track_ids=ids)

    answer = listener_api.delete("/api/v1/me/", {"password": PASSWORD}, format="json")

    assert answer.status_code == 204
    assert not Playlist.objects.filter(pk=mine.pk).exists()
    assert not PlaylistTrack.objects.filter(playlist_id=mine.pk).exists()
    assert PlaylistTrack.objects.filter(playlist=theirs).count() == 4
