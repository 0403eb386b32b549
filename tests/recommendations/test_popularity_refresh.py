"""Refreshing the popularity views: concurrently with readers, one refresh at a time, from the
task, the beat schedule and the command; and the freshness figures of /metrics."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

from accounts.models import User
from catalog.models import Track
from history.models import HistoryEntry, Interaction, Opinion
from musicrec.celery import app
from recommendations.selectors.popularity import popularity_generation, popularity_state
from recommendations.services.popularity import (
    LOCK_NAME,
    PopularityRefresh,
    refresh_popularity,
)
from recommendations.tasks import refresh_popularity as refresh_popularity_task
from tests.recommendations.popularity_data import event, listener

# Generous bounds for a thread to reach a point; a test that hits one fails, it never measures.
WAIT = 30
# A statement that would wait for a lock fails after this instead: being blocked is an error.
LOCK_TIMEOUT = "5s"


class Worker(threading.Thread):
    """Runs ``target`` in a thread with its own database connection (closed at the end);
    keeps the result or the exception for the test to check."""

    def __init__(self, target: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.target = target
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.target()
        except BaseException as exc:  # reported by finish()
            self.error = exc
        finally:
            connection.close()

    def finish(self) -> Any:
        self.join(WAIT)
        assert not self.is_alive(), "the thread did not finish"
        if self.error is not None:
            raise self.error
        return self.result


def _wait(event_: threading.Event, what: str) -> None:
    assert event_.wait(WAIT), f"gave up waiting for {what}"


def _snapshot(cursor) -> tuple[Any, ...]:
    """Both views and the generation, read in one statement (one snapshot)."""
    cursor.execute(
        """
        SELECT (SELECT array_agg(track_id ORDER BY track_id) FROM popular_tracks
                 WHERE genre_id = 0),
               (SELECT array_agg(track_id ORDER BY track_id) FROM demographic_popularity
                 WHERE level = 1),
               (SELECT generation FROM recommendations_popularity_refresh)
        """
    )
    return tuple(cursor.fetchone())


def _own_tracks(n: int) -> list[Track]:
    """Transactional tests flush the database afterwards (the shared demo catalog too), so they
    bring their own committed tracks."""
    return Track.objects.bulk_create(
        [
            Track(spotify_id=f"PopRefresh{i:012d}", title=f"Refresh {i}", duration_ms=100_000)
            for i in range(n)
        ]
    )


@pytest.fixture
def committed_world():
    """Two tracks, a listener who played the first; views refreshed. Afterwards the events are
    deleted and the views refreshed again, so the flush of this transactional test leaves no
    rows of deleted tracks in them."""
    first, second = _own_tracks(2)
    fan = listener(age=30)
    for _ in range(4):  # a cohort needs five members to be in the view
        listener(age=31)
    event(fan, first)
    refresh_popularity()
    yield fan, first, second
    Interaction.objects.all().delete()
    Opinion.objects.all().delete()
    HistoryEntry.objects.all().delete()
    User.objects.all().delete()
    refresh_popularity()


@pytest.mark.django_db(transaction=True)
def test_a_refresh_neither_blocks_nor_is_blocked_by_readers_who_see_old_or_new_whole(
    committed_world,
):
    # given: the views hold the first track; then the second one is played (committed)
    fan, first, second = committed_world
    event(fan, second)
    reader_in = threading.Event()
    refreshed = threading.Event()
    reader_checked = threading.Event()
    committed = threading.Event()
    seen: list[tuple[Any, ...]] = []

    def reader() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            seen.append(_snapshot(cursor))  # holds its read locks on the views from here on
            reader_in.set()
            _wait(refreshed, "the refresh")
            seen.append(_snapshot(cursor))  # during the refresh's uncommitted transaction
            reader_checked.set()
            _wait(committed, "the commit")
            seen.append(_snapshot(cursor))  # same transaction, after the commit

    def refresher() -> PopularityRefresh:
        _wait(reader_in, "the reader")
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                summary = refresh_popularity()  # while the reader's transaction is open
                refreshed.set()
                _wait(reader_checked, "the reader's look")
        finally:  # a failed refresh lets the reader go too: the test reports the failure
            refreshed.set()
            committed.set()
        return summary

    # when
    reading, refreshing = Worker(reader), Worker(refresher)
    reading.start()
    refreshing.start()
    summary = refreshing.finish()
    reading.finish()

    # then: the refresh ran; the reader saw the whole old state, then the whole new one
    assert summary.skipped is False
    assert seen[0][:2] == ([first.pk], [first.pk])
    assert seen[1] == seen[0]
    assert seen[2] == ([first.pk, second.pk], [first.pk, second.pk], summary.generation)
    assert seen[0][2] != summary.generation


@pytest.mark.django_db(transaction=True)
def test_a_second_refresh_while_one_runs_is_skipped_at_once(committed_world):
    # given: a refresh that holds its transaction open
    holding = threading.Event()
    release = threading.Event()

    def first_refresh() -> PopularityRefresh:
        with transaction.atomic():
            summary = refresh_popularity()
            holding.set()
            _wait(release, "the second refresh")
        return summary

    def second_refresh() -> PopularityRefresh:
        _wait(holding, "the first refresh")
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:  # waiting would be an error
                    cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                return refresh_popularity()
        finally:
            release.set()

    # when
    first, second = Worker(first_refresh), Worker(second_refresh)
    first.start()
    second.start()
    skipped = second.finish()
    ran = first.finish()

    # then: one ran, one was skipped; once the first is done, the next one runs
    assert ran.skipped is False and ran.generation is not None
    assert skipped == PopularityRefresh(skipped=True)
    assert popularity_generation() == ran.generation
    assert refresh_popularity().skipped is False


@pytest.mark.django_db
def test_a_refresh_rewrites_only_the_rows_whose_values_changed():
    # given: a listener (in a cohort of five) and two tracks, refreshed once
    fan = listener(age=30)
    for _ in range(4):
        listener(age=31)
    heard, unheard = Track.objects.bulk_create(
        [Track(spotify_id=f"PopDiff{n:015d}", title="Diff", duration_ms=1000) for n in range(2)]
    )
    event(fan, heard, days_ago=2)
    refresh_popularity()
    popularity_state_before = popularity_state()

    # when: nothing happens, then the fan plays the second track, then the first again
    idle = refresh_popularity()
    event(fan, unheard)
    one_new = refresh_popularity()
    event(fan, heard)
    one_changed = refresh_popularity()

    # then: a refresh writes nothing when nothing changed; a new row is one insert, a changed
    # one a delete and an insert (the overall row, and the fan's age-band cohort row)
    assert idle.written == {"popular_tracks": 0, "demographic_popularity": 0}
    assert one_new.written == {"popular_tracks": 1, "demographic_popularity": 1}
    assert one_changed.written == {"popular_tracks": 2, "demographic_popularity": 2}
    # … and only a refresh that wrote hands out a new generation
    assert idle.generation == popularity_state_before.generation
    assert len({idle.generation, one_new.generation, one_changed.generation}) == 3


@pytest.mark.django_db
def test_the_task_refreshes_and_returns_its_summary():
    track = Track.objects.order_by("id").first()
    event(listener(age=20), track)

    summary = refresh_popularity_task.apply().get()

    assert summary["skipped"] is False
    assert summary["rows"] == {
        "popular_tracks": 1 + track.genres.count(),  # overall and per genre
        "demographic_popularity": 0,  # a listener alone makes no cohort
    }
    assert summary["written"] == summary["rows"]
    assert summary["generation"] == popularity_generation()


@pytest.mark.django_db
def test_the_task_is_registered_retried_and_scheduled_every_15_minutes():
    app.loader.import_default_modules()
    task = app.tasks["recommendations.refresh_popularity"]
    entry = settings.CELERY_BEAT_SCHEDULE["recommendations.refresh_popularity"]

    assert task.autoretry_for == (Exception,) and task.retry_backoff is True
    assert entry["task"] == "recommendations.refresh_popularity"
    assert entry["schedule"] == timedelta(minutes=15)
    assert settings.RECOMMENDER["popularity_refresh_minutes"] == 15


@pytest.mark.django_db
def test_an_unpopulated_view_gets_a_plain_refresh():
    # given: a view emptied WITH NO DATA (CONCURRENTLY would refuse it)
    event(listener(), Track.objects.order_by("id").first())
    with connection.cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW popular_tracks WITH NO DATA")

    summary = refresh_popularity()

    assert summary.rows["popular_tracks"] >= 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT ispopulated FROM pg_matviews WHERE matviewname = 'popular_tracks'")
        assert cursor.fetchone()[0] is True


@pytest.mark.django_db
def test_the_command_refreshes_and_prints_a_summary():
    event(listener(age=70), Track.objects.order_by("id").first())
    out = io.StringIO()

    call_command("refresh_popularity", "--no-progress", stdout=out)

    printed = out.getvalue()
    assert re.search(
        r"refreshed in [\d.]+ s: popular_tracks [\d,]+ rows \([\d,]+ written\),"
        r" demographic_popularity [\d,]+ rows \([\d,]+ written\)",
        printed,
    )
    assert f"(generation {popularity_generation()})" in printed


@pytest.mark.django_db(transaction=True)
def test_the_command_says_when_it_was_skipped():
    # given: another process holds the refresh's lock
    holding = threading.Event()
    release = threading.Event()

    def hold_the_lock() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [LOCK_NAME])
            holding.set()
            _wait(release, "the command")

    holder = Worker(hold_the_lock)
    holder.start()
    _wait(holding, "the lock")
    out = io.StringIO()
    try:
        call_command("refresh_popularity", "--no-progress", stdout=out)
    finally:
        release.set()
        holder.finish()

    assert "Skipped: another refresh of the popularity views is running." in out.getvalue()


@pytest.mark.django_db
def test_metrics_show_the_views_freshness_and_size(client, settings):
    settings.DEBUG = True
    settings.METRICS_TOKEN = ""
    event(listener(age=33), Track.objects.order_by("id").first())
    for _ in range(4):
        listener(age=33)
    summary = refresh_popularity()
    assert summary.rows["demographic_popularity"] == 1

    body = client.get("/metrics").content.decode()

    def sample(name: str, labels: str = "") -> float:
        found = re.search(rf"^{re.escape(name + labels)} (\S+)$", body, re.MULTILINE)
        assert found, f"{name}{labels} not in /metrics"
        return float(found.group(1))

    assert sample("musicrec_popularity_age_seconds") >= 0
    assert sample("musicrec_popularity_refresh_seconds") >= 0
    assert (
        sample("musicrec_popularity_view_rows", '{view="popular_tracks"}')
        == summary.rows["popular_tracks"]
    )
    assert (
        sample("musicrec_popularity_view_rows", '{view="demographic_popularity"}')
        == summary.rows["demographic_popularity"]
    )
