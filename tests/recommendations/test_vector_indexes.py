"""One partial HNSW index per model version: built by training before the swap, used by the
nearest-neighbour queries of the active version, dropped with retired and failed versions; and
tracks created during a training folded into the new version."""

from __future__ import annotations

import pytest
from django.db import connection

from catalog.models import Track
from catalog.services.imports import catalog_import_rows
from recommendations import hooks
from recommendations.models import ListenerVector, ModelVersion, TrackVector
from recommendations.selectors import vectors
from recommendations.services import training as training_service
from recommendations.services.embeddings import track_embeddings_refresh
from recommendations.services.training import train_embeddings
from recommendations.services.vector_indexes import (
    VERSIONED_TABLES,
    version_index_name,
    version_indexes_present,
)
from tests.catalog.factories import TrackFactory
from tests.catalog.test_admin import track_row

from .test_training import SMALL, listening

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_training(settings):
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "training": SMALL,
        "figures": {**settings.RECOMMENDER["figures"], "enabled": False},
    }
    return settings


def _hnsw_indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexdef ILIKE %s",
            [table, "% USING hnsw %"],
        )
        return dict(cursor.fetchall())


def test_the_versioned_tables_have_no_table_wide_hnsw_index():
    for table in VERSIONED_TABLES:
        for definition in _hnsw_indexes(table).values():
            assert "WHERE (model_version_id = " in definition


def test_a_training_builds_its_versions_indexes_and_the_next_drops_them(small_training):
    # given
    listening()

    # when
    first = train_embeddings()

    # then: one partial index per table, on that version's rows only
    assert first.seconds["index"] >= 0
    for table in VERSIONED_TABLES:
        definitions = _hnsw_indexes(table)
        name = version_index_name(table=table, version_id=first.version_id)
        assert list(definitions) == [name]
        assert "vector_cosine_ops" in definitions[name]
        assert f"WHERE (model_version_id = {first.version_id})" in definitions[name]

    # when a second training swaps in
    second = train_embeddings()

    # then the retired version's indexes are gone with its vectors
    present = version_indexes_present()
    assert first.version_id not in present
    assert sorted(present[second.version_id]) == sorted(
        version_index_name(table=t, version_id=second.version_id) for t in VERSIONED_TABLES
    )


def test_a_training_failing_after_its_index_was_built_drops_it(small_training, monkeypatch):
    listening()
    good = train_embeddings()

    def broken_swap(version):
        raise RuntimeError("swap failed")

    monkeypatch.setattr(training_service, "_swap", broken_swap)
    with pytest.raises(RuntimeError):
        train_embeddings()

    failed = ModelVersion.objects.get(status=ModelVersion.Status.FAILED)
    assert failed.pk not in version_indexes_present()
    assert good.version_id in version_indexes_present()
    assert not TrackVector.objects.filter(model_version=failed).exists()


def _plans_of_vector_queries(run, *, sort: bool = True) -> list[str]:
    """Run ``run()`` and return the plan of each nearest-neighbour statement it sends, exactly
    as sent (same SQL, same parameters, same session settings). ``sort=False``: plan it with
    sorts priced out, so the only cheap way to its ``ORDER BY distance`` is an index giving
    that order: the version's HNSW index, if the statement matches its predicate. (On the demo
    catalog's 3k vectors reading the version's rows and sorting them is cheaper, and the
    planner rightly does that; at 90k it takes the index on its own: scripts/bench_training.py.)
    """
    plans: list[str] = []

    def explain(execute, sql, params, many, context):
        if "<=>" in sql and sql.lstrip().upper().startswith("SELECT"):
            cursor = context["cursor"]
            if not sort:
                cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("EXPLAIN " + sql, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
            if not sort:
                cursor.execute("SET LOCAL enable_sort TO DEFAULT")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain):
        run()
    return plans


def test_nearest_queries_of_the_active_version_use_its_partial_hnsw_index(trained_model):
    # given the active version's vectors with their per-version indexes (as training builds)
    version_id = trained_model.version.pk
    query = trained_model.user_factors[0]

    # when
    plans = _plans_of_vector_queries(
        lambda: (
            vectors.nearest_tracks(vector=query, k=50, model_version_id=version_id),
            vectors.nearest_tracks(
                vector=query, k=10, model_version_id=version_id, exclude=[1, 2, 3]
            ),
            vectors.nearest_listeners(vector=query, k=10, model_version_id=version_id),
        ),
        sort=False,
    )

    # then each statement can use that version's own index: its WHERE carries the version as
    # a literal that matches the index predicate (a bound parameter would not)
    assert len(plans) == 3
    track_index = version_index_name(table=TrackVector._meta.db_table, version_id=version_id)
    listener_index = version_index_name(table=ListenerVector._meta.db_table, version_id=version_id)
    assert f"Index Scan using {track_index}" in plans[0]
    assert f"Index Scan using {track_index}" in plans[1]
    assert f"Index Scan using {listener_index}" in plans[2]


def test_exact_twins_scan_without_the_index(trained_model):
    version_id = trained_model.version.pk
    query = trained_model.user_factors[0]

    plans = _plans_of_vector_queries(
        lambda: vectors.nearest_tracks_exact(vector=query, k=10, model_version_id=version_id)
    )

    assert len(plans) == 1 and "hnsw" not in plans[0]


def test_tracks_created_during_a_training_are_folded_into_the_new_version(
    small_training, monkeypatch
):
    # given: a track of a known artist is created while the models are fitted (after the
    # snapshot), with no model active to fold it into
    _, tracks = listening()
    artist = tracks[0].artist_list[0]
    artist_tracks = {t.pk for t in tracks if artist in t.artist_list}
    fit = training_service.fit
    created = []

    def fit_while_a_track_is_added(**kwargs):
        trained = fit(**kwargs)
        created.append(TrackFactory(artists=[artist]))
        return trained

    monkeypatch.setattr(training_service, "fit", fit_while_a_track_is_added)

    # when
    outcome = train_embeddings()

    # then it has a vector in the new version, among its artist's tracks
    (new,) = created
    assert outcome.new_tracks == 1
    stored = vectors.track_vectors(track_ids=[new.pk], model_version_id=outcome.version_id)
    assert new.pk in stored
    nearest = vectors.nearest_tracks(
        vector=stored[new.pk], k=3, model_version_id=outcome.version_id, exclude=[new.pk]
    )
    assert nearest[0].id in artist_tracks


def test_a_large_import_leaves_the_fold_in_to_embed_tracks(trained_model, settings, monkeypatch):
    # given: imports of 2 tracks or more count as large
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "vectors": {**settings.RECOMMENDER["vectors"], "import_reembed_from": 2},
    }
    enqueued: list[str] = []
    monkeypatch.setattr(hooks, "enqueue_on_commit", lambda name, *a, **k: enqueued.append(name))
    artist_track = TrackVector.objects.filter(model_version=trained_model.version).first().track
    artist = artist_track.artist_list[0].name
    rows = [track_row(n, artists=artist, album_name="") for n in (11, 12)]

    # when
    catalog_import_rows(rows=rows)

    # then the import's transaction folded nothing in: embed_tracks will, after the commit
    new = TrackVector.objects.filter(
        model_version=trained_model.version, track__spotify_id__startswith="ZQXADM"
    )
    assert not new.exists()
    assert "recommendations.embed_tracks" in enqueued
    # what that task runs for them
    track_embeddings_refresh(
        track_ids=list(
            Track.objects.filter(spotify_id__startswith="ZQXADM").values_list("pk", flat=True)
        )
    )
    assert new.count() == 2
