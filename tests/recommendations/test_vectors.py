"""Nearest-neighbour selectors on real vectors (HNSW against an exact scan), and the fold-ins
that keep listeners' and new tracks' collaborative vectors fresh without a retrain."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection

from catalog.models import Track
from catalog.services.imports import catalog_import_rows
from recommendations.models import (
    ListenerVector,
    ModelStatus,
    ModelVersion,
    TrackContent,
    TrackVector,
)
from recommendations.selectors import vectors
from recommendations.services.listeners import listener_vector_refresh
from recommendations.services.track_vectors import track_vectors_fold_in
from tests.catalog.test_admin import track_row
from tests.recommendations.vector_helpers import recall, through_the_hnsw_index

pytestmark = pytest.mark.django_db

URL = "/api/v1/interactions/"


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def _post(client, url: str, data: dict, capture) -> int:
    """POST as a mobile client does, with what runs on commit (the taste hooks) run."""
    with capture(execute=True):
        return client.post(url, data, format="json").status_code


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# --------------------------------------------------------------------------- content vectors


def test_content_neighbours_by_hnsw_fill_k_50_with_recall_of_the_exact_scan():
    # given the demo catalog's content vectors (written by its import) and 30 query tracks
    ids = list(TrackContent.objects.order_by("track_id").values_list("track_id", flat=True))
    assert len(ids) == Track.objects.count() > 3000
    queries = np.random.default_rng(7).choice(ids, size=30, replace=False)

    # when
    recalls = []
    for track_id in queries.tolist():
        found = vectors.similar_tracks_by_content(track_id=track_id, k=50)
        exact = vectors.similar_tracks_by_content_exact(track_id=track_id, k=50)
        # then 50 rows every time, never the track itself, nearest first
        assert len(found) == len(exact) == 50
        assert track_id not in {n.id for n in found}
        assert [n.distance for n in found] == sorted(n.distance for n in found)
        recalls.append(recall(found, exact))

    assert np.mean(recalls) >= 0.95


def test_content_neighbours_leave_out_what_is_excluded():
    track_id = TrackContent.objects.order_by("track_id").values_list("track_id", flat=True)[0]
    first = vectors.similar_tracks_by_content(track_id=track_id, k=10)
    excluded = [n.id for n in first[:5]]

    again = vectors.similar_tracks_by_content(track_id=track_id, k=10, exclude=excluded)

    assert len(again) == 10
    assert not {n.id for n in again} & set(excluded)
    assert [n.id for n in again[:5]] == [n.id for n in first[5:]]


def test_a_track_without_content_vector_has_no_similar_tracks():
    assert vectors.similar_tracks_by_content(track_id=10**12, k=5) == []


# ------------------------------------------------------------------- collaborative vectors


def test_nearest_tracks_by_hnsw_fill_k_50_with_recall_of_the_exact_scan(trained_model):
    # given a small ALS model of demo listeners on the demo catalog
    model = trained_model
    version_id = model.version.pk
    assert vectors.active_model_version_id() == version_id
    queries = model.user_factors[np.any(model.user_factors != 0, axis=1)][:40]

    # when
    recalls = []
    for query in queries:
        with through_the_hnsw_index() as plans:
            found = vectors.nearest_tracks(vector=query, k=50, model_version_id=version_id)
        exact = vectors.nearest_tracks_exact(vector=query, k=50, model_version_id=version_id)
        assert len(found) == len(exact) == 50
        assert "hnsw" in plans[0]  # the approximate search, not a scan of every vector
        recalls.append(recall(found, exact))

    # then
    assert np.mean(recalls) >= 0.95


def test_nearest_tracks_exclude_and_read_only_their_version(trained_model):
    # given a retired version whose vectors point the other way: it must never answer
    model = trained_model
    query = model.user_factors[0]
    retired = ModelVersion.objects.create(status=ModelStatus.RETIRED)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO recommendations_trackvector (model_version_id, track_id, vector)"
            " SELECT %s, track_id, vector * %s::vector FROM recommendations_trackvector"
            " WHERE model_version_id = %s",
            [retired.pk, "[" + ",".join(["-1"] * 128) + "]", model.version.pk],
        )

    first = vectors.nearest_tracks(vector=query, k=20, model_version_id=model.version.pk)
    excluded = [n.id for n in first[:10]]
    again = vectors.nearest_tracks(
        vector=query, k=20, model_version_id=model.version.pk, exclude=excluded
    )

    assert len(again) == 20
    assert not {n.id for n in again} & set(excluded)
    # the next ten, by distance (tracks nobody played that share artist, album and genres are
    # folded in to the same vector: their order among themselves is arbitrary)
    assert [n.distance for n in again[:10]] == pytest.approx([n.distance for n in first[10:]])
    assert first[0].distance < 1.0  # the retired version's would all be beyond 1
    # the distances are the active version's own (an exact check of a few of them)
    stored = vectors.track_vectors(
        track_ids=[n.id for n in first[:3]], model_version_id=model.version.pk
    )
    for n in first[:3]:
        assert 1 - _cosine(query, stored[n.id][:32]) == pytest.approx(n.distance, abs=1e-5)


def test_nearest_listeners_find_the_listener_closest_to_a_vector(trained_model):
    model = trained_model
    user_id = int(model.user_ids[3])
    mine = vectors.listener_vector(user_id=user_id, model_version_id=model.version.pk)

    found = vectors.nearest_listeners(vector=mine, k=5, model_version_id=model.version.pk)
    others = vectors.nearest_listeners(
        vector=mine, k=5, model_version_id=model.version.pk, exclude=[user_id]
    )

    assert found[0].id == user_id and found[0].distance == pytest.approx(0.0, abs=1e-5)
    assert len(others) == 5 and user_id not in {n.id for n in others}


# --------------------------------------------------------------------------- listener fold-in


def test_a_like_moves_the_listener_vector_towards_the_track_at_once(
    listener, listener_api, capture, trained_model
):
    # given a model and a listener with a history of one genre's tracks
    model = trained_model
    version_id = model.version.pk
    tracks = list(
        Track.objects.filter(pk__in=model.track_ids.tolist())
        .order_by("-popularity")
        .values_list("pk", flat=True)[:200]
    )
    for track_id in tracks[:5]:
        assert _post(listener_api, URL, {"track_id": track_id, "kind": "play"}, capture) == 201
    before = vectors.listener_vector(user_id=listener.pk, model_version_id=version_id)
    assert before is not None
    # a track the listener has not touched, far from them
    candidates = vectors.track_vectors(track_ids=tracks[100:200], model_version_id=version_id)
    liked = min(candidates, key=lambda t: _cosine(before, candidates[t]))
    liked_vector = candidates[liked]

    # when
    status = _post(listener_api, URL, {"track_id": liked, "kind": "like"}, capture)

    # then
    assert status == 201
    after = vectors.listener_vector(user_id=listener.pk, model_version_id=version_id)
    assert _cosine(after, liked_vector) > _cosine(before, liked_vector) + 0.05
    # the vector is the exact fold-in of the listener's row against the stored track vectors
    assert ListenerVector.objects.filter(user=listener, model_version_id=version_id).count() == 1


@pytest.mark.parametrize("kind", ["dislike", "skip"])
def test_a_dislike_or_skip_moves_the_listener_vector_away(
    listener, listener_api, capture, trained_model, kind
):
    # given a listener who played five tracks and liked one more
    model = trained_model
    version_id = model.version.pk
    tracks = list(
        Track.objects.filter(pk__in=model.track_ids.tolist())
        .order_by("-popularity")
        .values_list("pk", flat=True)[:8]
    )
    for track_id in tracks[:5]:
        _post(listener_api, URL, {"track_id": track_id, "kind": "play"}, capture)
    target = tracks[5]
    target_vector = vectors.track_vectors(track_ids=[target], model_version_id=version_id)[target]
    before = vectors.listener_vector(user_id=listener.pk, model_version_id=version_id)

    # when
    assert _post(listener_api, URL, {"track_id": target, "kind": kind}, capture) == 201

    # then
    after = vectors.listener_vector(user_id=listener.pk, model_version_id=version_id)
    assert _cosine(after, target_vector) < _cosine(before, target_vector)


def test_a_listener_with_nothing_left_has_no_vector(listener, listener_api, capture, trained_model):
    model = trained_model
    track_id = int(model.track_ids[0])
    assert _post(listener_api, "/api/v1/history/", {"track_id": track_id}, capture) == 201
    assert ListenerVector.objects.filter(user=listener, model_version=model.version).exists()

    with capture(execute=True):
        listener_api.delete("/api/v1/history/")

    assert not ListenerVector.objects.filter(user=listener, model_version=model.version).exists()


def test_without_an_active_model_fold_ins_do_nothing(
    listener, listener_api, capture, retired_model
):
    # given no active model (only a retired one)
    assert vectors.active_model_version_id() is None
    track_vectors_before = TrackVector.objects.count()
    track_id = Track.objects.order_by("id").values_list("pk", flat=True).first()

    # when a like is recorded and tracks are folded in
    assert _post(listener_api, URL, {"track_id": track_id, "kind": "like"}, capture) == 201
    written = track_vectors_fold_in(track_ids=[track_id])

    # then
    assert listener_vector_refresh(user_id=listener.pk) is False
    assert written == 0
    assert not ListenerVector.objects.filter(user=listener).exists()
    assert TrackVector.objects.count() == track_vectors_before
    # and a new track is not folded into the retired version either
    catalog_import_rows(rows=[track_row(3)])
    assert TrackVector.objects.count() == track_vectors_before


# --------------------------------------------------------------------------- new-track fold-in


def test_an_imported_track_of_a_known_artist_gets_a_vector_among_that_artists_tracks(
    trained_model,
):
    # given a model, and an artist of the snapshot with several tracks
    model = trained_model
    version_id = model.version.pk
    artist_track = (
        Track.objects.filter(album__isnull=False).order_by("id").select_related("album").first()
    )
    artist = artist_track.artist_list[0].name
    album = artist_track.album.name

    # when a new track of that artist and album is imported
    catalog_import_rows(
        rows=[track_row(1, artists=artist, album_name=album, track_genre="zqx-new-genre")]
    )

    # then it has a collaborative vector at once, close to the album's track
    new = Track.objects.get(spotify_id="ZQXADM0000000000000001")
    assert new.pk not in set(model.track_ids.tolist())
    stored = vectors.track_vectors(track_ids=[new.pk, artist_track.pk], model_version_id=version_id)
    assert new.pk in stored
    nearest = vectors.nearest_tracks(
        vector=stored[new.pk], k=20, model_version_id=version_id, exclude=[new.pk]
    )
    assert artist_track.pk in {n.id for n in nearest}
    # and the trained tracks keep their trained vectors
    assert stored[artist_track.pk][:32] == pytest.approx(
        model.item_factors[list(model.track_ids).index(artist_track.pk)], abs=1e-6
    )


def test_a_new_track_with_nothing_the_model_knows_gets_no_vector(trained_model):
    catalog_import_rows(
        rows=[track_row(2, artists="Zqxadm Nobody", album_name="", track_genre="zqx-unknown")]
    )
    new = Track.objects.get(spotify_id="ZQXADM0000000000000002")
    assert not TrackVector.objects.filter(track=new).exists()
    assert TrackContent.objects.filter(track=new).exists()


def test_the_active_artifact_is_read_in_slices_and_without_metadata_factors_unless_asked(
    trained_model, monkeypatch
):
    # given an artifact read in slices much smaller than itself
    monkeypatch.setattr(vectors, "ARTIFACT_READ_SLICE", 4096)
    monkeypatch.setattr(vectors, "_artifact_cache", None)
    stored = trained_model.artifact

    # when a web process reads it to serve, then a fold-in of a new track asks for more
    version_id, light = vectors.active_model()
    _, full = vectors.active_model(metadata_factors=True)
    _, again = vectors.active_model()

    # then both are the stored artifact; only the second carries the metadata factors, and it
    # is what the cache keeps (it serves the lighter use too)
    assert version_id == trained_model.version.pk
    assert light.track_ids.tolist() == stored.track_ids.tolist()
    assert light.als is not None and not light.als.has_metadata_factors
    np.testing.assert_allclose(light.als.item_gram, stored.als.item_gram)
    assert full.als is not None and full.als.has_metadata_factors
    np.testing.assert_allclose(full.als.metadata_factors, stored.als.metadata_factors)
    assert again is full
