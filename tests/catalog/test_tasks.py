"""Catalog tasks and the guarded enqueue, against the real database and a real (stopped) Redis."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from catalog.tasks import refresh_search_terms
from musicrec import embedded
from musicrec.celery import app
from musicrec.queue import enqueue, enqueue_on_commit
from tests.catalog.factories import TrackFactory
from tests.services import helper_instance

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]


def _term_exists(term: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM catalog_search_term WHERE term = %s", [term])
        return cursor.fetchone() is not None


def test_refresh_search_terms_learns_new_words_and_is_idempotent():
    TrackFactory(title="Zwomplifying Anthem")
    assert not _term_exists("zwomplifying")

    refresh_search_terms.apply().get()
    refresh_search_terms.apply().get()

    assert _term_exists("zwomplifying")


def test_search_corrects_typos_against_words_added_after_refresh(client):
    TrackFactory(title="Zwomplifying Anthem", popularity=5)
    refresh_search_terms.apply().get()

    response = client.get("/api/v1/search/", {"q": "zwomplfying"})

    assert response.json()["results"][0]["title"] == "Zwomplifying Anthem"


@pytest.fixture
def broker_down():
    """Point Celery at a Redis that this test started and then stopped."""
    instance = helper_instance("broker")
    try:
        url, _ = embedded.start_redis(instance)
    finally:
        stopped = embedded.stop_redis(instance)
    assert stopped, "the helper Redis did not stop"
    previous = app.conf.broker_url
    app.conf.broker_url = url
    app.pool.force_close_all()
    try:
        yield
    finally:
        app.conf.broker_url = previous
        app.pool.force_close_all()


def test_enqueue_with_broker_down_logs_instead_of_raising(broker_down, caplog):
    with caplog.at_level(logging.ERROR, logger="musicrec.queue"):
        accepted = enqueue("catalog.refresh_search_terms")

    assert accepted is False
    assert "could not enqueue catalog.refresh_search_terms" in caplog.text


def test_enqueue_on_commit_waits_for_the_commit(broker_down, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue_on_commit("catalog.refresh_search_terms")

    assert len(callbacks) == 1
    callbacks[0]()  # the broker is down: logged, not raised


def _enqueued_names() -> set[str]:
    """Every task name the code enqueues (``enqueue("…")`` / ``enqueue_on_commit("…")``)."""
    pattern = re.compile(r"""enqueue(?:_on_commit)?\(\s*["']([\w.]+)["']""")
    names = set()
    for path in BASE_DIR.glob("*/**/*.py"):
        if path.parts[len(BASE_DIR.parts)] in {".venv", "tests", "var"}:
            continue
        names |= set(pattern.findall(path.read_text()))
    return names


def test_every_enqueued_and_scheduled_task_name_is_a_registered_task():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    names = _enqueued_names() | scheduled

    assert {"catalog.refresh_search_terms", "history.process_listen_import"} <= names
    assert names - set(app.tasks) == set()


def test_in_eager_mode_an_enqueued_task_runs_at_once():
    # given: a word no search term has yet
    TrackFactory(title="Quirbleflux Anthem")
    assert not _term_exists("quirbleflux")

    app.conf.task_always_eager = True
    try:
        accepted = enqueue("catalog.refresh_search_terms")
    finally:
        app.conf.task_always_eager = False

    assert accepted is True
    assert _term_exists("quirbleflux")
