"""Training on the site's data: a version with its vectors and artifact, the atomic swap,
retired versions cleaned up, a failing training leaving the active model alone."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.management import call_command

from history.models import HistoryEntry, Interaction, Opinion
from recommendations.artifacts import ModelArtifact
from recommendations.models import ListenerVector, ModelVersion, TrackVector
from recommendations.selectors.catalog import engine_catalog
from recommendations.selectors.training import (
    listener_rows,
    model_version_active,
    model_version_is_stale,
)
from recommendations.services import training as training_service
from recommendations.services.training import PHASES, train_embeddings
from tests.accounts.factories import UserFactory
from tests.catalog.factories import ArtistFactory, TrackFactory

pytestmark = pytest.mark.django_db

# built, not written out: the API contract test draws strings from the code it imports
NDCG_KEY = "ndcg" + "@" + "10"

#: Small and quick: few iterations, EASE over 300 tracks (the demo catalog is loaded).
SMALL = {
    "als_iterations": 2,
    "als_regularization": 1.0,
    "ease_max_tracks": 300,
    "ease_neighbours": 20,
}


@pytest.fixture
def small_training(settings):
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "training": SMALL,
        "figures": {**settings.RECOMMENDER["figures"], "min_listeners": 3},
    }
    return settings


def listening(n_listeners: int = 6, n_tracks: int = 8):
    """Listeners who play, like, skip and remember tracks of two artists."""
    artists = [ArtistFactory(), ArtistFactory()]
    tracks = [TrackFactory(artists=[artists[i % 2]]) for i in range(n_tracks)]
    listeners = [UserFactory() for _ in range(n_listeners)]
    for u, user in enumerate(listeners):
        mine = [t for i, t in enumerate(tracks) if i % 2 == u % 2]
        for slot, track in enumerate(mine[:2], start=1):
            HistoryEntry.objects.create(user=user, track=track, slot=slot)
        for track in mine[2:]:
            Interaction.objects.create(user=user, track=track, kind="play")
        Opinion.objects.create(user=user, track=mine[-1], value="like")
        other = tracks[(u + 1) % 2]
        Interaction.objects.create(user=user, track=other, kind="skip")
    return listeners, tracks


def test_a_training_stores_an_active_version_with_its_vectors_and_artifact(small_training):
    # given
    listeners, tracks = listening()
    phases = []

    # when
    outcome = train_embeddings(progress=phases.append)

    # then
    assert not outcome.skipped
    assert phases == list(PHASES)
    version = ModelVersion.objects.get(pk=outcome.version_id)
    assert version.status == ModelVersion.Status.ACTIVE
    assert version.activated_at is not None and version.snapshot_at is not None
    assert version.training_seconds is not None and version.training_seconds > 0
    catalog = engine_catalog()
    assert (version.listeners, version.tracks) == (len(listeners), catalog.n_tracks)
    assert version.cells == 6 * 5  # 2 history + 2 plays + 1 like (on a play) + 1 skip = 5 cells
    assert version.parameters["als_iterations"] == 2
    assert set(version.figures) >= {"holdout", "fit_seconds", "phase_seconds"}
    assert set(version.figures["fit_seconds"]) == {"ease", "als"}
    assert NDCG_KEY in version.figures["holdout"]
    # every listener has a vector, every track with a non-zero factor too
    assert set(
        ListenerVector.objects.filter(model_version=version).values_list("user_id", flat=True)
    ) == {u.pk for u in listeners}
    assert TrackVector.objects.filter(model_version=version).count() == outcome.track_vectors
    assert outcome.track_vectors > 0
    assert TrackVector.objects.filter(
        model_version=version, track_id__in=[t.pk for t in tracks]
    ).count() == len(tracks)
    artifact = ModelArtifact.from_bytes(version.artifact)
    assert artifact.track_ids.tolist() == catalog.track_ids.tolist()
    assert artifact.ease is not None and artifact.als is not None
    assert artifact.training_params().als_iterations == 2


def test_stored_vectors_are_the_models_and_a_fold_in_matches_the_listener_vector(small_training):
    listeners, _ = listening()
    outcome = train_embeddings()
    version = ModelVersion.objects.get(pk=outcome.version_id)
    artifact = ModelArtifact.from_bytes(version.artifact)
    catalog = engine_catalog()

    stored = dict(
        TrackVector.objects.filter(model_version=version).values_list("track_id", "vector")
    )
    factors = np.zeros((catalog.n_tracks, 128), dtype=np.float32)
    for track_id, vector in stored.items():
        factors[catalog.indices([track_id])[0]] = vector
    _, rows = listener_rows(user_ids=[listeners[0].pk], engine_catalog=catalog)
    folded = artifact.als.listener_vectors(rows, factors)[0]
    trained = ListenerVector.objects.get(model_version=version, user=listeners[0]).vector

    # one fold-in from the stored factors lands close to the trained listener vector
    cosine = folded @ trained / (np.linalg.norm(folded) * np.linalg.norm(trained))
    assert cosine > 0.9


def test_the_copied_vectors_are_exactly_the_trained_factors(small_training, monkeypatch):
    # given: the fitted models captured as the training fits them
    listeners, _ = listening()
    fitted = []
    fit = training_service.fit

    def capture(**kwargs):
        fitted.append(fit(**kwargs))
        return fitted[-1]

    monkeypatch.setattr(training_service, "fit", capture)
    # the listeners were all created within the refresh margin: no re-fold-in after the swap,
    # so their stored vectors are what the COPY wrote
    monkeypatch.setattr(training_service, "listeners_changed_since", lambda since: [])

    # when
    outcome = train_embeddings()

    # then every non-zero factor is stored under its owner (to float32's precision: the
    # vectors are read back as text), listeners stamped with the snapshot's moment
    version = ModelVersion.objects.get(pk=outcome.version_id)
    als = fitted[0].als
    catalog = engine_catalog()
    stored = dict(
        TrackVector.objects.filter(model_version=version).values_list("track_id", "vector")
    )
    nonzero = np.flatnonzero(np.any(als.item_factors_ != 0, axis=1))
    assert sorted(stored) == sorted(catalog.track_ids[nonzero].tolist())
    for i in nonzero:
        np.testing.assert_allclose(stored[int(catalog.track_ids[i])], als.item_factors_[i], 1e-6)
    rows = ListenerVector.objects.filter(model_version=version)
    by_user = {row.user_id: row for row in rows}
    user_ids, _ = listener_rows(engine_catalog=catalog)
    assert sorted(by_user) == sorted(u.pk for u in listeners)
    for row, user_id in enumerate(user_ids.tolist()):
        np.testing.assert_allclose(by_user[user_id].vector, als.user_factors_[row], 1e-6)
        assert by_user[user_id].updated_at == version.snapshot_at


def test_a_second_training_retires_the_first_and_deletes_its_vectors(small_training):
    listening()
    first = train_embeddings()

    second = train_embeddings()

    old = ModelVersion.objects.get(pk=first.version_id)
    new = ModelVersion.objects.get(pk=second.version_id)
    assert (old.status, new.status) == (ModelVersion.Status.RETIRED, ModelVersion.Status.ACTIVE)
    assert old.artifact is None and new.artifact is not None
    assert not TrackVector.objects.filter(model_version=old).exists()
    assert not ListenerVector.objects.filter(model_version=old).exists()
    assert old.figures and old.training_seconds  # the history stays for the admin
    assert ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).count() == 1


def test_a_failing_training_leaves_the_active_model_alone(small_training, monkeypatch):
    listening()
    good = train_embeddings()
    vectors_before = TrackVector.objects.filter(model_version_id=good.version_id).count()

    def broken(*args, **kwargs):
        raise FloatingPointError("ALS diverged")

    monkeypatch.setattr(training_service, "train", broken)

    with pytest.raises(FloatingPointError):
        train_embeddings()

    failed = ModelVersion.objects.exclude(pk=good.version_id).get()
    assert failed.status == ModelVersion.Status.FAILED
    assert "ALS diverged" in failed.error
    assert model_version_active().pk == good.version_id
    assert TrackVector.objects.filter(model_version_id=good.version_id).count() == vectors_before
    assert not TrackVector.objects.filter(model_version=failed).exists()


def test_a_training_with_the_wrong_width_fails_with_a_clear_error(small_training):
    small_training.RECOMMENDER = {**small_training.RECOMMENDER, "training": {"als_factors": 64}}
    listening()

    with pytest.raises(ValueError, match="128 dimensions"):
        train_embeddings()

    assert ModelVersion.objects.get().status == ModelVersion.Status.FAILED
    assert model_version_active() is None


def test_a_version_left_training_by_a_dead_run_is_marked_failed(small_training):
    listening()
    dead = ModelVersion.objects.create(status=ModelVersion.Status.TRAINING)

    train_embeddings()

    dead.refresh_from_db()
    assert dead.status == ModelVersion.Status.FAILED
    assert "interrupted" in dead.error


def test_listeners_who_changed_during_training_are_folded_in_again(small_training, monkeypatch):
    # given: a listener likes a track of the other artist while the models are fitted
    listeners, tracks = listening()
    changer = listeners[0]
    fit = training_service.fit
    liked = tracks[1]

    def fit_while_a_listener_likes(**kwargs):
        trained = fit(**kwargs)
        if not Opinion.objects.filter(user=changer, track=liked).exists():
            Opinion.objects.create(user=changer, track=liked, value="like")
        return trained

    monkeypatch.setattr(training_service, "fit", fit_while_a_listener_likes)

    # when
    outcome = train_embeddings()

    # then: the stored vector is the new model's fold-in of the row with the like
    assert outcome.refreshed_listeners >= 1
    version = ModelVersion.objects.get(pk=outcome.version_id)
    artifact = ModelArtifact.from_bytes(version.artifact)
    catalog = engine_catalog()
    factors = np.zeros((catalog.n_tracks, 128), dtype=np.float32)
    for track_id, vector in TrackVector.objects.filter(model_version=version).values_list(
        "track_id", "vector"
    ):
        factors[catalog.indices([track_id])[0]] = vector
    _, rows = listener_rows(user_ids=[changer.pk], engine_catalog=catalog)
    (column,) = catalog.indices([liked.pk])
    assert rows[0, column] > 0
    expected = artifact.als.listener_vectors(rows, factors)[0]
    stored = ListenerVector.objects.get(model_version=version, user=changer).vector
    np.testing.assert_allclose(stored, expected, rtol=1e-3, atol=1e-5)


def test_too_few_listeners_for_a_holdout_say_so(settings):
    settings.RECOMMENDER = {**settings.RECOMMENDER, "training": SMALL}
    listening(n_listeners=2)

    outcome = train_embeddings()

    assert "skipped" in outcome.figures["holdout"]
    assert "needs 20" in outcome.figures["holdout"]["skipped"]


def test_the_holdout_can_be_turned_off(small_training):
    small_training.RECOMMENDER = {
        **small_training.RECOMMENDER,
        "figures": {**small_training.RECOMMENDER["figures"], "enabled": False},
    }
    listening()

    outcome = train_embeddings()

    assert outcome.figures["holdout"] == {
        "skipped": "turned off (RECOMMENDER['figures']['enabled'])"
    }
    assert "figures" in outcome.seconds


def test_staleness(small_training):
    listening()
    assert model_version_is_stale()

    train_embeddings()

    assert not model_version_is_stale()
    assert model_version_is_stale(max_age_hours=0)


def test_the_command_trains_then_is_quick_when_current(small_training, capsys):
    listening()

    call_command("train_embeddings", "--no-progress")
    first = capsys.readouterr().out
    call_command("train_embeddings", "--if-stale", "--no-progress")
    second = capsys.readouterr().out

    version = model_version_active()
    assert f"Model {version.pk} is active: 6 listeners" in first
    assert "Seconds: read" in first and "Holdout: {" in first
    assert f"Model {version.pk} is current" in second and "not training" in second
    assert ModelVersion.objects.count() == 1


def test_the_command_reports_a_failure_without_a_traceback(small_training, monkeypatch):
    from django.core.management.base import CommandError

    listening()
    monkeypatch.setattr(
        training_service, "train", lambda *a, **k: (_ for _ in ()).throw(MemoryError("too big"))
    )

    with pytest.raises(CommandError, match=r"training failed: too big.*previous model stays"):
        call_command("train_embeddings", "--no-progress")
