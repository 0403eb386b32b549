"""An import's life after the upload: undo while pending or processing, imports a worker never
finished (resumed by beat), failures, the offer's answer, the imports page's queries."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.throttling import ScopedRateThrottle

from catalog.models import Track
from history.models import HistoryEntry, Interaction, ListenImport
from history.services.imports import (
    listen_import_create,
    listen_import_offer_accept,
    listen_import_process,
    listen_import_undo,
    listen_imports_resume,
)
from history.tasks import process_listen_import, resume_listen_imports
from musicrec.errors import ApplicationError

FIXTURES = Path(__file__).parent / "fixtures"
CSV = "lastfm_header.csv"  # 5 listens: 4 matched (3 tracks), 1 unknown


def _pending(user) -> ListenImport:
    upload = SimpleUploadedFile(CSV, (FIXTURES / CSV).read_bytes())
    return listen_import_create(user=user, file=upload, enqueue=False)


def _done(user) -> ListenImport:
    listen_import = _pending(user)
    return listen_import_process(import_id=listen_import.pk)


def _age(listen_import: ListenImport, *, minutes: int, status: str) -> None:
    """Pretend the import was uploaded (and, if processing, claimed) ``minutes`` ago."""
    then = timezone.now() - timedelta(minutes=minutes)
    ListenImport.objects.filter(pk=listen_import.pk).update(
        status=status, created_at=then, started_at=then if status == "processing" else None
    )


def _claim_and_die(import_id: int) -> None:
    """What a worker's claim does before the worker dies: pending → processing, one more
    attempt."""
    ListenImport.objects.filter(pk=import_id, status="pending").update(
        status="processing", started_at=timezone.now(), attempts=F("attempts") + 1
    )


# ------------------------------------------------------------------------------------ undo
@pytest.mark.django_db
def test_an_import_being_processed_cannot_be_undone(user):
    listen_import = _done(user)
    ListenImport.objects.filter(pk=listen_import.pk).update(status="processing")

    with pytest.raises(ApplicationError) as refused:
        listen_import_undo(user=user, import_id=listen_import.pk)

    assert refused.value.code == "import_processing"
    assert refused.value.status == 409
    assert Interaction.objects.filter(listen_import=listen_import).count() == 4


@pytest.mark.django_db
def test_the_api_answers_409_to_an_undo_while_processing(api_client, user):
    listen_import = _done(user)
    ListenImport.objects.filter(pk=listen_import.pk).update(status="processing")
    api_client.force_authenticate(user)

    answer = api_client.delete(f"/api/v1/imports/{listen_import.pk}/")

    assert answer.status_code == 409
    assert answer.json()["code"] == "import_processing"
    assert ListenImport.objects.filter(pk=listen_import.pk).exists()


@pytest.mark.django_db
def test_the_page_explains_an_undo_while_processing(client, user):
    listen_import = _done(user)
    ListenImport.objects.filter(pk=listen_import.pk).update(status="processing")
    client.force_login(user)

    page = client.post(f"/history/imports/{listen_import.pk}/undo/", follow=True)

    assert page.status_code == 200
    assert "being processed" in page.content.decode()
    assert ListenImport.objects.filter(pk=listen_import.pk).exists()


@pytest.mark.django_db
def test_undoing_a_pending_import_cancels_it_and_its_task_finds_nothing(user):
    listen_import = _pending(user)

    assert listen_import_undo(user=user, import_id=listen_import.pk) == 0

    assert process_listen_import.apply(args=[listen_import.pk]).get() == "gone"
    assert listen_import_process(import_id=listen_import.pk) is None
    assert not Interaction.objects.filter(user=user).exists()


@pytest.mark.django_db(transaction=True)
def test_an_undo_racing_the_worker_is_refused_and_the_import_completes(django_user_model):
    """Real threads and connections: the worker has claimed the import and is about to store
    its plays when the listener undoes it from another request."""
    listener = django_user_model.objects.create_user("racer", "r@example.com", "pw-Racer-4242")
    # transactional tests flush the database afterwards: they bring their own tracks
    spotify_ids = [f"UndoRace{n:014d}" for n in range(3)]
    Track.objects.bulk_create(
        Track(spotify_id=sid, title=f"Race {n}", duration_ms=200_000)
        for n, sid in enumerate(spotify_ids)
    )
    lines = [
        json.dumps(
            {
                "listened_at": 1_700_000_000 + n,
                "track_metadata": {
                    "artist_name": "Racer",
                    "track_name": f"Race {n}",
                    "additional_info": {"spotify_id": sid},
                },
            }
        )
        for n, sid in enumerate(spotify_ids)
    ]
    upload = SimpleUploadedFile("listens.jsonl", "\n".join(lines).encode())
    listen_import = listen_import_create(user=listener, file=upload, enqueue=False)
    storing, undo_answered = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def on_progress(value: int) -> None:
        if value == 60:  # matched; the plays are written next
            storing.set()
            assert undo_answered.wait(timeout=30)

    def undo() -> None:
        try:
            assert storing.wait(timeout=30)
            outcome["removed"] = listen_import_undo(user=listener, import_id=listen_import.pk)
        except ApplicationError as exc:
            outcome["code"] = exc.code
        finally:
            connections.close_all()
            undo_answered.set()

    other_request = threading.Thread(target=undo)
    other_request.start()
    result = listen_import_process(import_id=listen_import.pk, on_progress=on_progress)
    other_request.join()

    assert outcome == {"code": "import_processing"}
    assert result.status == "done"
    assert Interaction.objects.filter(listen_import_id=listen_import.pk).count() == 3
    # once done, the undo goes through and leaves nothing behind
    assert listen_import_undo(user=listener, import_id=listen_import.pk) == 3
    assert not ListenImport.objects.filter(pk=listen_import.pk).exists()
    assert not Interaction.objects.filter(user=listener).exists()


# ------------------------------------------------------------------------------------ resume
@pytest.mark.django_db
def test_resume_sends_again_old_pending_and_stale_processing_imports_only(user):
    lost = _pending(user)  # its task never reached a worker
    _age(lost, minutes=11, status="pending")
    crashed = _pending(user)  # its worker died
    _age(crashed, minutes=31, status="processing")
    fresh = _pending(user)  # just uploaded: a worker will get to it
    busy = _pending(user)  # a worker is on it
    _age(busy, minutes=5, status="processing")
    finished = _done(user)
    _age(finished, minutes=60, status="done")

    resumed = listen_imports_resume(
        pending_after=timedelta(minutes=10), stale_after=timedelta(minutes=30)
    )

    assert sorted(resumed) == sorted([lost.pk, crashed.pk])
    states = dict(ListenImport.objects.values_list("pk", "status"))
    assert states == {
        lost.pk: "pending",
        crashed.pk: "pending",
        fresh.pk: "pending",
        busy.pk: "processing",
        finished.pk: "done",
    }


@pytest.mark.django_db
def test_an_import_that_keeps_killing_its_worker_fails_after_three_attempts(user):
    listen_import = _pending(user)
    for attempt in (1, 2, 3):
        # a worker claims it, then dies (the claim counts the attempt)
        ListenImport.objects.filter(pk=listen_import.pk).update(status="pending")
        _claim_and_die(listen_import.pk)
        _age(listen_import, minutes=31, status="processing")
        resumed = listen_imports_resume(
            pending_after=timedelta(minutes=10), stale_after=timedelta(minutes=30)
        )
        listen_import.refresh_from_db()
        assert listen_import.attempts == attempt
        if attempt < 3:
            assert resumed == [listen_import.pk]
            assert listen_import.status == "pending"

    assert resumed == []
    assert listen_import.status == "failed"
    assert "3 attempts" in listen_import.error
    assert listen_import.data is None


def test_the_import_task_has_a_time_limit_below_the_staleness_threshold(settings):
    assert process_listen_import.time_limit == 15 * 60
    assert process_listen_import.time_limit < settings.LISTEN_IMPORT_STALE_AFTER


@pytest.mark.django_db
def test_a_resumed_import_is_processed_once_and_completely(user):
    crashed = _pending(user)
    _age(crashed, minutes=31, status="processing")
    assert resume_listen_imports.apply().get() == 1

    assert process_listen_import.apply(args=[crashed.pk]).get() == "done"
    assert process_listen_import.apply(args=[crashed.pk]).get() == "done"  # sent twice: once

    crashed.refresh_from_db()
    assert (crashed.matched, crashed.created, crashed.duplicates) == (4, 4, 0)
    assert crashed.attempts == 1
    assert Interaction.objects.filter(listen_import=crashed).count() == 4


@pytest.mark.django_db
def test_resume_is_scheduled_with_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["history.resume_listen_imports"]
    assert entry["task"] == "history.resume_listen_imports"
    assert entry["schedule"] == timedelta(minutes=10)


# ------------------------------------------------------------------------------------ failure
@pytest.mark.django_db
def test_a_failed_import_keeps_its_message_but_not_its_upload(user):
    listen_import = _pending(user)
    # an export that passed the upload checks but breaks while processing
    ListenImport.objects.filter(pk=listen_import.pk).update(format="no_such_format")

    result = listen_import_process(import_id=listen_import.pk)

    assert result.status == "failed"
    stored = ListenImport.objects.get(pk=listen_import.pk)
    assert stored.status == "failed"
    assert "Unknown format" in stored.error
    assert stored.data is None
    assert stored.finished_at is not None
    assert not Interaction.objects.filter(user=user).exists()
    # a failed import is not picked up again: the listener uploads the file anew
    assert listen_import_process(import_id=listen_import.pk).status == "failed"


# ------------------------------------------------------------------------------------ offer
@pytest.mark.django_db
def test_the_offer_answer_says_how_many_were_added(api_client, user):
    listen_import = _done(user)
    offered = listen_import.offered_track_ids
    api_client.force_authenticate(user)
    url = f"/api/v1/imports/{listen_import.pk}/offer/"

    first = api_client.post(url, {"track_ids": offered[:2]}, format="json")
    again = api_client.post(url, {"track_ids": offered[:2]}, format="json")

    assert first.status_code == 200
    assert first.json() == {"added": 2, "count": 2, "limit": 50, "remaining": 48}
    assert again.json() == {"added": 0, "count": 2, "limit": 50, "remaining": 48}


@pytest.mark.django_db
def test_the_offer_page_does_not_claim_an_addition_that_did_not_happen(client, user):
    listen_import = _done(user)
    first = listen_import.offered_track_ids[0]
    listen_import_offer_accept(user=user, import_id=listen_import.pk, track_ids=[first])
    client.force_login(user)

    page = client.post(
        f"/history/imports/{listen_import.pk}/offer/", {"track_ids": [first]}, follow=True
    )

    text = page.content.decode()
    assert "already in your history" in text
    assert "Added to your history" not in text
    assert HistoryEntry.objects.filter(user=user).count() == 1


# ------------------------------------------------------------------------------------ page
@pytest.mark.django_db
def test_the_imports_page_reads_a_constant_number_of_queries(client, user):
    client.force_login(user)
    _done(user)
    client.get("/history/imports/")  # warm: session, content types
    with CaptureQueriesContext(connection) as one:
        assert client.get("/history/imports/").status_code == 200
    for _ in range(5):
        _done(user)  # same file: no new plays, but each import offers its tracks
    with CaptureQueriesContext(connection) as six:
        page = client.get("/history/imports/")

    assert page.content.decode().count('class="offer"') == 6
    assert len(six) == len(one)


@pytest.mark.django_db
def test_uploads_have_their_own_rate_but_reading_imports_does_not(api_client, user, monkeypatch):
    # DRF reads the rates once, into the throttle class
    rates = {**ScopedRateThrottle.THROTTLE_RATES, "imports": "2/hour"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    api_client.force_authenticate(user)

    def upload() -> int:
        file = SimpleUploadedFile(CSV, (FIXTURES / CSV).read_bytes())
        return api_client.post("/api/v1/imports/", {"file": file}, format="multipart").status_code

    assert [upload(), upload(), upload()] == [202, 202, 429]
    assert api_client.get("/api/v1/imports/").status_code == 200
    assert ListenImport.objects.filter(user=user).count() == 2
