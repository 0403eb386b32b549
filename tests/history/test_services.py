"""The 50-entry history: the exact 44th–51st adds, idempotency, concurrency with real threads."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from catalog.models import Track
from history.models import HISTORY_LIMIT, HistoryEntry
from history.services.entries import (
    history_clear,
    history_entries_add,
    history_entry_add,
    history_entry_remove,
)
from musicrec.errors import ApplicationError


def _track_ids(n: int) -> list[int]:
    return list(Track.objects.order_by("id").values_list("id", flat=True)[:n])


@pytest.mark.django_db
def test_warnings_from_the_45th_add_and_refusal_of_the_51st(user):
    ids = _track_ids(HISTORY_LIMIT + 1)
    changes = [history_entry_add(user=user, track_id=track_id) for track_id in ids[:50]]

    assert changes[43].count == 44
    assert changes[43].warning is None
    assert (changes[44].count, changes[44].warning) == (45, "5 slots remaining")
    assert changes[48].warning == "1 slot remaining"
    assert changes[49].warning == "0 slots remaining"
    with pytest.raises(ApplicationError) as refused:
        history_entry_add(user=user, track_id=ids[50])
    assert refused.value.code == "history_limit_reached"
    assert refused.value.extra == {"limit": 50, "count": 50}
    assert HistoryEntry.objects.filter(user=user).count() == 50
    assert not HistoryEntry.objects.filter(user=user, track_id=ids[50]).exists()


@pytest.mark.django_db
def test_adding_a_present_track_is_idempotent_even_when_full(user):
    ids = _track_ids(HISTORY_LIMIT)
    for track_id in ids:
        history_entry_add(user=user, track_id=track_id)

    again = history_entry_add(user=user, track_id=ids[10])

    assert again.created is False
    assert again.count == 50
    assert again.entry.track_id == ids[10]


@pytest.mark.django_db
def test_unknown_track_is_not_found(user):
    with pytest.raises(ApplicationError) as excinfo:
        history_entry_add(user=user, track_id=999_999_999)

    assert (excinfo.value.code, excinfo.value.status) == ("not_found", 404)


@pytest.mark.django_db
def test_bulk_add_is_all_or_nothing(user):
    ids = _track_ids(60)
    history_entries_add(user=user, track_ids=ids[:45])

    with pytest.raises(ApplicationError) as refused:
        history_entries_add(user=user, track_ids=ids[40:52])  # 5 present + 7 new > 5 free

    assert refused.value.code == "history_limit_reached"
    assert HistoryEntry.objects.filter(user=user).count() == 45
    added = history_entries_add(user=user, track_ids=ids[40:50])
    assert added.count == 50


@pytest.mark.django_db
def test_remove_frees_a_slot_and_other_listeners_entries_are_not_found(user, django_user_model):
    other = django_user_model.objects.create_user("other", "o@example.com", "pw-Other-4242")
    ids = _track_ids(HISTORY_LIMIT + 1)
    for track_id in ids[:50]:
        history_entry_add(user=user, track_id=track_id)
    mine = HistoryEntry.objects.filter(user=user).first()

    with pytest.raises(ApplicationError):
        history_entry_remove(user=other, entry_id=mine.pk)
    assert history_entry_remove(user=user, entry_id=mine.pk) == 49
    assert history_entry_add(user=user, track_id=ids[50]).created is True
    assert history_clear(user=user) == 50
    assert not HistoryEntry.objects.filter(user=user).exists()


def _in_threads(target, args_list, workers: int = 32) -> list:
    results: list = []
    lock = threading.Lock()
    queue = list(args_list)

    def worker():
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    args = queue.pop()
                try:
                    outcome = target(*args)
                except ApplicationError as exc:
                    outcome = exc.code
                with lock:
                    results.append(outcome)
        finally:
            connections.close_all()  # each thread has its own connection; PostgreSQL allows 100

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _own_tracks(n: int) -> list[int]:
    """Transactional tests flush the database afterwards (the shared demo catalog included),
    so they bring their own committed tracks."""
    tracks = Track.objects.bulk_create(
        [
            Track(spotify_id=f"RaceTrack{i:013d}", title=f"Race {i}", duration_ms=1000)
            for i in range(n)
        ]
    )
    return [track.pk for track in tracks]


@pytest.mark.django_db(transaction=True)
def test_200_parallel_adds_of_different_tracks_leave_exactly_50(django_user_model):
    listener = django_user_model.objects.create_user("racer", "r@example.com", "pw-Racer-4242")
    ids = _own_tracks(200)

    results = _in_threads(
        lambda track_id: history_entry_add(user=listener, track_id=track_id).count,
        [(track_id,) for track_id in ids],
    )

    assert HistoryEntry.objects.filter(user=listener).count() == 50
    assert results.count("history_limit_reached") == 150
    assert sorted(r for r in results if isinstance(r, int)) == list(range(1, 51))
    slots = sorted(HistoryEntry.objects.filter(user=listener).values_list("slot", flat=True))
    assert slots == list(range(1, 51))


@pytest.mark.django_db(transaction=True)
def test_200_parallel_adds_of_the_same_track_leave_one(django_user_model):
    listener = django_user_model.objects.create_user("twin", "t@example.com", "pw-Twin-424242")
    (track_id,) = _own_tracks(1)

    results = _in_threads(
        lambda _: history_entry_add(user=listener, track_id=track_id).created,
        [(n,) for n in range(200)],
    )

    assert HistoryEntry.objects.filter(user=listener).count() == 1
    assert results.count(True) == 1
    assert results.count(False) == 199


@pytest.mark.django_db
def test_profile_reports_the_history_count(user, api_client):
    for track_id in _track_ids(3):
        history_entry_add(user=user, track_id=track_id)
    api_client.force_authenticate(user)

    body = api_client.get("/api/v1/me/").json()

    assert body["history"] == {"count": 3, "limit": 50, "remaining": 47}
