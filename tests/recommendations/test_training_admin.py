"""The model versions' admin (read-only) and its "train now", and the training task."""

from __future__ import annotations

import pytest
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from musicrec.celery import app
from recommendations.models import ModelVersion
from recommendations.tasks import train_embeddings as train_task

from .test_training import SMALL, listening

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:recommendations_modelversion_changelist")
TRAIN = reverse("admin:recommendations_modelversion_train")


@pytest.fixture
def small_training(settings):
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "training": SMALL,
        "figures": {**settings.RECOMMENDER["figures"], "min_listeners": 3},
    }


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_the_list_and_detail_show_a_version_without_its_artifact(superuser_web, small_training):
    listening()
    train_task.apply().get()
    version = ModelVersion.objects.get()

    listing = superuser_web.get(CHANGELIST)
    detail = superuser_web.get(
        reverse("admin:recommendations_modelversion_change", args=[version.pk])
    )

    assert listing.status_code == 200
    body = listing.content.decode()
    assert "Active" in body and "Train now" in body
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "als_iterations" in page and "ndcg@10" in page and "phase_seconds" in page
    assert filesizeformat(len(version.artifact)) in page  # the artifact's size, not its bytes
    assert "Save" not in page  # read-only


def test_train_now_enqueues_the_training(superuser_web, small_training, eager):
    listening()

    response = superuser_web.post(TRAIN)

    assert response.status_code == 302
    assert ModelVersion.objects.get().status == ModelVersion.Status.ACTIVE


def test_train_now_is_a_post_and_for_superusers_only(curator_web, superuser_web, eager):
    assert superuser_web.get(TRAIN).status_code == 405
    curator_web.post(TRAIN)
    assert not ModelVersion.objects.exists()


def test_the_task_returns_a_summary_and_a_skipped_run_is_not_retried(small_training, monkeypatch):
    from recommendations import tasks
    from recommendations.services.training import TrainingOutcome

    listening()
    result = train_task.apply().get()
    assert result["skipped"] is False and result["listeners"] == 6

    monkeypatch.setattr(tasks, "train_embeddings_service", lambda: TrainingOutcome(skipped=True))
    outcome = train_task.apply()
    assert outcome.get() == {"skipped": True}
    assert outcome.state == "SUCCESS"
