"""Content vectors kept fresh by the services that save tracks (admin, import command, admin
CSV), the embed_tracks task and admin action, and hooks that fail without failing the write."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.db import connections
from django.urls import reverse

from catalog.models import Genre, Track
from catalog.services.imports import catalog_import_rows
from musicrec import registry
from recommendations.engine.content import (
    feature_statistics,
    stored_content_vectors,
)
from recommendations.models import TrackContent, TrackVector
from recommendations.selectors import vectors
from recommendations.selectors.catalog import engine_catalog
from recommendations.services import content as content_services
from recommendations.services.embeddings import EMBED_ALL_LOCK, track_embeddings_refresh
from recommendations.tasks import embed_tracks
from tests.catalog.test_admin import change_form_data, csv_bytes, track_row

pytestmark = pytest.mark.django_db


def _stored(track_id: int) -> np.ndarray:
    vector = vectors.track_content_vector(track_id=track_id)
    assert vector is not None, f"track {track_id} has no content vector"
    return vector


def _slugs(track: Track) -> list[str]:
    return sorted(track.genres.values_list("slug", flat=True))


# --------------------------------------------------------------------------- what is stored


def test_statistics_by_sql_are_the_in_memory_ones_of_the_catalog():
    # when
    by_sql = content_services.catalog_feature_statistics(fresh=True)
    in_memory = feature_statistics(engine_catalog().catalog.features)

    # then
    np.testing.assert_allclose(by_sql.mean, in_memory.mean, rtol=1e-9)
    np.testing.assert_allclose(by_sql.std, in_memory.std, rtol=1e-9)


def test_a_stored_vector_is_the_in_memory_one_for_the_same_statistics():
    # given the catalog's statistics and tracks of one and of several genres
    loaded = engine_catalog()
    statistics = feature_statistics(loaded.catalog.features)
    content_services.track_content_refresh(track_ids=None)  # fresh statistics, whole catalog
    tracks = list(Track.objects.order_by("id")[:200])
    assert {len(_slugs(track)) for track in tracks} >= {1, 2}  # one genre and several

    for track in tracks:
        # when computed in memory from the catalog's arrays
        row = loaded.catalog.features[loaded.indices([track.pk])[0]]
        expected = stored_content_vectors(row[None, :], [_slugs(track)], statistics)[0]
        # then the stored vector (float32 in pgvector) is the same
        np.testing.assert_allclose(_stored(track.pk), expected, rtol=1e-5, atol=1e-5)


def test_every_track_of_an_import_gets_a_content_vector():
    # when three tracks are imported through the import service
    summary = catalog_import_rows(rows=[track_row(n) for n in (1, 2, 3)])

    # then each has its vector, in the import's own transaction
    assert summary.created == 3
    ids = Track.objects.filter(spotify_id__startswith="ZQXADM").values_list("pk", flat=True)
    assert TrackContent.objects.filter(track_id__in=ids).count() == 3


def test_a_dry_run_import_embeds_nothing_and_keeps_nothing():
    before = TrackContent.objects.count()
    catalog_import_rows(rows=[track_row(4)], dry_run=True)
    assert TrackContent.objects.count() == before


def test_an_edit_by_import_changes_the_vector():
    catalog_import_rows(rows=[track_row(5)])
    track = Track.objects.get(spotify_id="ZQXADM0000000000000005")
    before = _stored(track.pk)

    catalog_import_rows(rows=[track_row(5, energy="0.99", track_genre="zqx other")])

    after = _stored(track.pk)
    assert not np.allclose(before, after)


# --------------------------------------------------------------------------- admin


def _add_form(client: Any, **fields: Any) -> dict[str, Any]:
    data = change_form_data(client.get(reverse("admin:catalog_track_add")))
    artist = Track.objects.order_by("id").first().artist_list[0]
    data.update(
        {
            "title": "Zqxvec Brand New",
            "spotify_id": "ZQXVEC0000000000000001",
            "duration_ms": "200000",
            "popularity": "10",
            "danceability": "0.9",
            "energy": "0.95",
            "valence": "0.8",
            "tempo": "128",
            "track_artists-TOTAL_FORMS": "1",
            "track_artists-0-position": "0",
            "track_artists-0-artist": str(artist.pk),
            **fields,
        }
    )
    return data


def test_a_track_added_in_the_admin_has_its_content_vector_at_once(superuser_web):
    # given
    genre = Genre.objects.order_by("id").first()
    data = _add_form(superuser_web, genres=[str(genre.pk)])

    # when
    response = superuser_web.post(reverse("admin:catalog_track_add"), data)

    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    track = Track.objects.get(spotify_id="ZQXVEC0000000000000001")
    statistics = content_services.catalog_feature_statistics()
    expected = stored_content_vectors(
        np.array([[getattr(track, name) for name in _features()]], dtype=float),
        [[genre.slug]],
        statistics,
    )[0]
    np.testing.assert_allclose(_stored(track.pk), expected, rtol=1e-5, atol=1e-5)
    # and it is recommendable by content at once: its neighbours are found, and it is theirs
    neighbours = vectors.similar_tracks_by_content(track_id=track.pk, k=5)
    assert len(neighbours) == 5
    back = vectors.nearest_tracks_by_content(vector=_stored(track.pk), k=1)
    assert back[0].id == track.pk


def _features() -> tuple[str, ...]:
    from recommendations.engine.data import AUDIO_FEATURES

    return AUDIO_FEATURES


def test_a_track_added_in_the_admin_is_folded_into_the_active_model(superuser_web, trained_model):
    # when a track of a known artist is added
    response = superuser_web.post(reverse("admin:catalog_track_add"), _add_form(superuser_web))

    # then it has a collaborative vector in the active version, without a retrain
    assert response.status_code == 302
    track = Track.objects.get(spotify_id="ZQXVEC0000000000000001")
    assert TrackVector.objects.filter(track=track, model_version=trained_model.version).exists()
    found = vectors.nearest_tracks(
        vector=vectors.track_vectors(
            track_ids=[track.pk], model_version_id=trained_model.version.pk
        )[track.pk],
        k=1,
        model_version_id=trained_model.version.pk,
    )
    assert found[0].id == track.pk


def test_an_edit_in_the_admin_updates_the_content_vector(superuser_web):
    # given a track and its vector
    catalog_import_rows(rows=[track_row(6)])
    track = Track.objects.get(spotify_id="ZQXADM0000000000000006")
    before = _stored(track.pk)
    url = reverse("admin:catalog_track_change", args=[track.pk])
    data = change_form_data(superuser_web.get(url))
    data["energy"] = "0.01"

    # when
    response = superuser_web.post(url, data)

    # then
    assert response.status_code == 302
    assert not np.allclose(_stored(track.pk), before)


def test_the_admin_csv_import_embeds_every_imported_track(superuser_web):
    # given
    content = csv_bytes([track_row(n) for n in (7, 8)])
    preview = superuser_web.post(
        reverse("admin:catalog_track_import"),
        {"resource": "0", "format": "0", "import_file": _upload(content)},
    )

    # when
    initial = preview.context["confirm_form"].initial
    superuser_web.post(reverse("admin:catalog_track_process_import"), initial)

    # then
    ids = Track.objects.filter(spotify_id__startswith="ZQXADM").values_list("pk", flat=True)
    assert len(ids) == 2
    assert TrackContent.objects.filter(track_id__in=ids).count() == 2


def _upload(content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("tracks.csv", content, content_type="text/csv")


# --------------------------------------------------------------------------- failures


@pytest.fixture
def failing_hooks():
    """A tracks_changed and a taste_changed hook that always fail (registered last)."""

    def fail(*_: Any) -> None:
        raise RuntimeError("hook failed on purpose")

    registry.tracks_changed.register("test.failing", fail)
    registry.taste_changed.register("test.failing", fail)
    yield
    registry.tracks_changed.unregister("test.failing")
    registry.taste_changed.unregister("test.failing")


def test_a_failing_tracks_hook_does_not_fail_the_save(superuser_web, failing_hooks, caplog):
    response = superuser_web.post(reverse("admin:catalog_track_add"), _add_form(superuser_web))

    assert response.status_code == 302
    track = Track.objects.get(spotify_id="ZQXVEC0000000000000001")
    assert TrackContent.objects.filter(track=track).exists()  # the other hooks still ran
    assert "tracks_changed hook test.failing failed" in caplog.text


def test_a_failing_content_hook_leaves_the_import_whole(monkeypatch, caplog):
    # given the recommender's own hook breaks with a database error mid-transaction
    def broken(track_ids: list[int]) -> None:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    monkeypatch.setitem(registry.tracks_changed._entries, "recommendations.content", broken)

    # when
    summary = catalog_import_rows(rows=[track_row(9)])

    # then the import is stored (the savepoint rolled the hook back alone)
    assert summary.created == 1
    assert Track.objects.filter(spotify_id="ZQXADM0000000000000009").exists()
    assert "tracks_changed hook recommendations.content failed" in caplog.text


def test_a_failing_taste_hook_does_not_fail_the_like(
    listener, listener_api, failing_hooks, django_capture_on_commit_callbacks, caplog
):
    track_id = Track.objects.order_by("id").values_list("pk", flat=True).first()

    with django_capture_on_commit_callbacks(execute=True):
        response = listener_api.post(
            "/api/v1/interactions/", {"track_id": track_id, "kind": "like"}, format="json"
        )

    assert response.status_code == 201
    assert listener.interactions.filter(kind="like").exists()
    assert "taste_changed hook test.failing failed" in caplog.text


# --------------------------------------------------------------------------- task and action


def test_embed_tracks_recomputes_what_is_missing_and_is_safe_to_run_twice():
    # given two tracks whose vectors were lost
    ids = list(Track.objects.order_by("id").values_list("pk", flat=True)[:2])
    TrackContent.objects.filter(track_id__in=ids).delete()

    # when
    first = embed_tracks.apply(kwargs={"track_ids": ids}).get()
    second = embed_tracks.apply(kwargs={"track_ids": ids}).get()

    # then
    assert TrackContent.objects.filter(track_id__in=ids).count() == 2
    assert first.startswith("2 tracks embedded: 2 content vectors new or changed")
    assert second.startswith("2 tracks embedded: 0 content vectors new or changed")


def test_a_whole_catalog_run_is_skipped_while_another_holds_the_lock():
    # given another session running the whole-catalog refresh
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [EMBED_ALL_LOCK])

        # when
        result = track_embeddings_refresh()

        # then
        assert result.skipped
        assert result.describe().startswith("skipped")
    finally:
        other.close()
    assert not track_embeddings_refresh(track_ids=[]).skipped


def test_the_admin_action_recomputes_a_small_selection_at_once(superuser_web):
    ids = list(Track.objects.order_by("id").values_list("pk", flat=True)[:3])
    TrackContent.objects.filter(track_id__in=ids).delete()

    response = superuser_web.post(
        reverse("admin:catalog_track_changelist"),
        {"action": "recompute_embeddings", "_selected_action": ids},
        follow=True,
    )

    assert response.status_code == 200
    assert (
        "Embeddings recomputed: 3 tracks embedded: 3 content vectors" in response.content.decode()
    )
    assert TrackContent.objects.filter(track_id__in=ids).count() == 3


def test_the_admin_action_sends_a_large_selection_to_the_task(
    superuser_web, settings, django_capture_on_commit_callbacks
):
    settings.RECOMMENDER = {**settings.RECOMMENDER, "vectors": {"admin_inline_tracks": 2}}
    ids = list(Track.objects.order_by("id").values_list("pk", flat=True)[:3])

    with django_capture_on_commit_callbacks() as callbacks:
        response = superuser_web.post(
            reverse("admin:catalog_track_changelist"),
            {"action": "recompute_embeddings", "_selected_action": ids},
            follow=True,
        )

    assert "Embeddings of 3 tracks will be recomputed in the background" in (
        response.content.decode()
    )
    assert len(callbacks) == 1


def test_the_action_is_offered_only_to_curators_who_may_change_tracks(client, curator):
    from django.contrib.auth.models import Permission

    curator.user_permissions.set(Permission.objects.filter(codename="view_track"))
    client.force_login(curator)

    page = client.get(reverse("admin:catalog_track_changelist"))

    assert page.status_code == 200
    assert "recompute_embeddings" not in page.content.decode()


def test_a_bulk_change_rebuilds_the_hnsw_index_in_the_same_transaction(settings):
    # given a threshold of 2 changed vectors and 3 tracks without one
    settings.RECOMMENDER = {**settings.RECOMMENDER, "vectors": {"index_rebuild_from": 2}}
    ids = list(Track.objects.order_by("id").values_list("pk", flat=True)[:3])
    TrackContent.objects.filter(track_id__in=ids).delete()

    def index_oid() -> int | None:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT to_regclass('track_content_hnsw_cosine')::oid")
            return cursor.fetchone()[0]

    before = index_oid()

    # when
    result = content_services.track_content_refresh(track_ids=ids)

    # then the rows are written, the index is a new one, and HNSW queries answer with it
    assert result.written == 3
    assert before is not None and index_oid() not in (None, before)
    assert len(vectors.similar_tracks_by_content(track_id=ids[0], k=50)) == 50
