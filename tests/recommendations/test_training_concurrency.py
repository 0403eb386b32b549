"""Real threads against the real database: two trainings never overlap, and readers during a
swap see the old model or the new one, never a mix."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from recommendations.models import ModelVersion
from recommendations.services import training as training_service
from recommendations.services.training import train_embeddings

from .test_training import SMALL, listening

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def small_training(settings):
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "training": SMALL,
        "figures": {**settings.RECOMMENDER["figures"], "enabled": False},
    }


def _thread(target) -> threading.Thread:
    def run() -> None:
        try:
            target()
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_concurrent_trainings_one_runs_one_is_skipped(small_training, monkeypatch):
    # given: the first training is held inside its fit until the second has answered
    listening()
    fitting = threading.Event()
    second_done = threading.Event()
    fit = training_service.fit

    def slow_fit(**kwargs):
        fitting.set()
        assert second_done.wait(30), "the second training never answered"
        return fit(**kwargs)

    monkeypatch.setattr(training_service, "fit", slow_fit)
    outcomes = {}

    # when
    first = _thread(lambda: outcomes.__setitem__("first", train_embeddings()))
    assert fitting.wait(30)
    second = _thread(lambda: outcomes.__setitem__("second", train_embeddings()))
    second.join(30)
    second_done.set()
    first.join(60)

    # then
    assert outcomes["second"].skipped
    assert not outcomes["first"].skipped
    assert ModelVersion.objects.count() == 1
    assert ModelVersion.objects.get().status == ModelVersion.Status.ACTIVE


def test_a_training_after_another_finished_runs(small_training):
    listening()

    first, second = train_embeddings(), train_embeddings()

    assert not first.skipped and not second.skipped  # the lock was released


# One statement: the active version and its vectors from one snapshot (READ COMMITTED).
ACTIVE_VECTORS = """
    SELECT v.model_version_id, count(*), round(sum(vector_norm(v.vector))::numeric, 3)
    FROM recommendations_trackvector v
    JOIN recommendations_modelversion m ON m.id = v.model_version_id
    WHERE m.status = 'active'
    GROUP BY v.model_version_id
"""


def test_readers_during_a_swap_see_the_old_or_the_new_model_never_a_mix(small_training, settings):
    # given: an active model, and a second training that learns different vectors
    listening()
    first = train_embeddings()
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "training": {**SMALL, "random_state": 7, "als_iterations": 3},
    }
    reads: list[list[tuple[int, int, float]]] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            with connection.cursor() as cursor:
                cursor.execute(ACTIVE_VECTORS)
                reads.append([tuple(row) for row in cursor.fetchall()])

    # when: the reader reads over and over while the second training swaps
    thread = _thread(reader)
    try:
        second = train_embeddings()
        after = len(reads)
        while len(reads) < after + 2 and thread.is_alive():  # a read or two after the swap
            threading.Event().wait(0.01)
    finally:
        stop.set()
        thread.join(30)

    # then: every read is one whole version
    expected = {
        first.version_id: first.track_vectors,
        second.version_id: second.track_vectors,
    }
    assert reads, "the reader never read"
    seen: dict[int, set] = {}
    for read in reads:
        assert len(read) == 1, f"a read saw {len(read)} versions: {read}"
        version_id, count, norms = read[0]
        assert count == expected[version_id]
        seen.setdefault(version_id, set()).add(norms)
    assert all(len(norms) == 1 for norms in seen.values())  # a version's vectors never change
    assert first.version_id in seen
    assert second.version_id in seen
