"""Every change made by listening-data imports.

An upload is checked (size, format) before anything is stored, kept in PostgreSQL
(``ListenImport.data``) and processed by the Celery task ``history.process_listen_import``
(or ``manage.py import_listens``). Processing parses, matches and then inserts all the plays of
the import in one transaction, so a failure leaves the interactions as they were.

Idempotency: imported plays carry their import, and a partial unique index on (user, track,
occurred_at) for imported plays makes ``INSERT … ON CONFLICT DO NOTHING`` skip a listen that is
already stored — importing the same file twice (or two overlapping exports) adds nothing twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from history.listen_formats.parsers import ExportError, Listen, detect_format, iter_listens
from history.models import HistoryEntry, Interaction, ListenImport
from history.selectors.imports import listen_import_get, listen_import_list
from history.selectors.matching import CatalogIndex
from history.services.entries import HistoryChange, history_entries_add
from musicrec import queue
from musicrec.errors import ApplicationError

logger = logging.getLogger(__name__)

OFFER_SIZE = 20
TOP_UNMATCHED_SIZE = 20
# Rows per INSERT … SELECT FROM unnest(…): one round trip each, bounded memory per statement.
INSERT_BATCH = 20_000
_MAX_MS = 2**31 - 1

ProgressCallback = Callable[[int], None]


def _read_upload(file: UploadedFile) -> bytes:
    limit = settings.LISTEN_IMPORT_MAX_BYTES
    if file.size is not None and file.size > limit:
        raise _too_large(limit)
    data: bytes = file.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    return data


def _too_large(limit: int) -> ApplicationError:
    return ApplicationError(
        f"The file is larger than {limit // (1024 * 1024)} MB.",
        code="file_too_large",
        extra={"max_bytes": limit},
    )


def listen_import_create(*, user: User, file: UploadedFile, enqueue: bool = True) -> ListenImport:
    """Store an upload for processing, after checking its size and format.

    An unknown format or a corrupt file is refused (``invalid_export``) and nothing is stored.
    The processing task is sent once the transaction commits.
    """
    data = _read_upload(file)
    try:
        fmt = detect_format(data)
    except ExportError as error:
        raise ApplicationError(str(error), code="invalid_export") from None
    with transaction.atomic():
        listen_import = ListenImport.objects.create(
            user=user,
            format=fmt,
            file_name=(getattr(file, "name", "") or "")[:255],
            file_size=len(data),
            data=data,
        )
        if enqueue:
            queue.enqueue_on_commit("history.process_listen_import", listen_import.pk)
    return listen_import


@dataclass
class _Matched:
    track_ids: list[int]
    times: list[datetime]
    ms: list[int | None]
    listens: int
    skipped: int
    unmatched: Counter[tuple[str, str]]


def _match(listens: list[Listen | None], index: CatalogIndex) -> _Matched:
    result = _Matched([], [], [], 0, 0, Counter())
    for listen in listens:
        if listen is None:
            result.skipped += 1
            continue
        result.listens += 1
        track_id = index.match(
            artist=listen.artist, title=listen.title, spotify_id=listen.spotify_id
        )
        if track_id is None:
            result.unmatched[(listen.artist, listen.title)] += 1
            continue
        result.track_ids.append(track_id)
        result.times.append(listen.occurred_at)
        ms = listen.ms_played
        result.ms.append(None if ms is None else min(ms, _MAX_MS))
    return result


def _insert_plays(listen_import: ListenImport, matched: _Matched) -> int:
    """Insert the matched plays; return how many were new (conflicts are skipped)."""
    table = Interaction._meta.db_table
    sql = f"""
        INSERT INTO {table}
            (user_id, track_id, kind, occurred_at, recorded_at, listened_ms, mood, activity,
             listen_import_id)
        SELECT %s, t.track_id, 'play', t.occurred_at, %s, t.listened_ms, '', '', %s
        FROM unnest(%s::bigint[], %s::timestamptz[], %s::integer[])
            AS t(track_id, occurred_at, listened_ms)
        ON CONFLICT (user_id, track_id, occurred_at)
            WHERE kind = 'play' AND listen_import_id IS NOT NULL
        DO NOTHING
    """
    now = timezone.now()
    created = 0
    with connection.cursor() as cursor:
        for start in range(0, len(matched.track_ids), INSERT_BATCH):
            end = start + INSERT_BATCH
            cursor.execute(
                sql,
                [
                    listen_import.user_id,
                    now,
                    listen_import.pk,
                    matched.track_ids[start:end],
                    matched.times[start:end],
                    matched.ms[start:end],
                ],
            )
            created += cursor.rowcount
    return created


def _set_progress(
    listen_import: ListenImport, progress: int, on_progress: ProgressCallback | None
) -> None:
    listen_import.progress = progress
    listen_import.save(update_fields=["progress"])
    if on_progress is not None:
        on_progress(progress)


def listen_import_process(
    *, import_id: int, on_progress: ProgressCallback | None = None
) -> ListenImport | None:
    """Parse, match and store the plays of a pending import. Safe to run twice: an import that
    is already being processed, done or failed is left alone (the claim is one conditional
    UPDATE); an import undone meanwhile gives None.

    Progress is saved as it goes (10 read, 40 parsed, 60 matched, 100 stored); the plays and the
    final counts are written in one transaction, so on failure the import is ``failed`` with a
    message and no play of it exists.
    """
    claimed = ListenImport.objects.filter(pk=import_id, status=ListenImport.Status.PENDING).update(
        status=ListenImport.Status.PROCESSING,
        progress=0,
        started_at=timezone.now(),
        error="",
        attempts=F("attempts") + 1,
    )
    listen_import = ListenImport.objects.filter(pk=import_id).first()
    if listen_import is None:  # undone (or the account deleted) before a worker got to it
        return None
    if not claimed:
        return listen_import
    try:
        _process(listen_import, on_progress)
    except ExportError as error:
        _fail(listen_import, str(error))
    except Exception:
        logger.exception("listen import %s failed", import_id)
        _fail(listen_import, "Processing failed unexpectedly; please upload the file again.")
    return listen_import


def _fail(listen_import: ListenImport, message: str) -> None:
    """Mark the import failed and drop its upload (the listener uploads again to retry)."""
    listen_import.status = ListenImport.Status.FAILED
    listen_import.error = message
    listen_import.finished_at = timezone.now()
    listen_import.data = None
    ListenImport.objects.filter(pk=listen_import.pk).update(
        status=listen_import.status,
        error=message,
        finished_at=listen_import.finished_at,
        data=None,
    )


def listen_imports_resume(
    *, pending_after: timedelta, stale_after: timedelta, max_attempts: int = 3
) -> list[int]:
    """Send again the imports no worker is working on; return their ids.

    * ``pending`` for longer than ``pending_after``: the task was never sent (the broker was
      down at upload) or was lost;
    * ``processing`` for longer than ``stale_after``: the worker died mid-way (or hit the task's
      time limit, which is shorter). Its plays were written in one transaction that never
      committed, so the import starts over from ``pending`` — unless it has been tried
      ``max_attempts`` times already: then it is ``failed`` (a file that kills its worker must
      not be retried forever).

    Safe to run at any time: a worker claims an import with a conditional UPDATE, so an import
    sent twice is processed once.
    """
    now = timezone.now()
    stale = ListenImport.objects.filter(
        status=ListenImport.Status.PROCESSING, started_at__lt=now - stale_after
    )
    stale.filter(attempts__gte=max_attempts).update(
        status=ListenImport.Status.FAILED,
        error=f"Processing this file did not finish in {max_attempts} attempts; it may be too "
        "large. Try its files one by one.",
        finished_at=now,
        data=None,
    )
    stale.update(status=ListenImport.Status.PENDING, progress=0, started_at=None)
    ids = list(
        ListenImport.objects.filter(
            status=ListenImport.Status.PENDING, created_at__lt=now - pending_after
        )
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    for import_id in ids:
        queue.enqueue("history.process_listen_import", import_id)
    return ids


def _process(listen_import: ListenImport, on_progress: ProgressCallback | None) -> None:
    data = bytes(listen_import.data or b"")
    _set_progress(listen_import, 10, on_progress)
    listens = list(iter_listens(data, listen_import.format))
    _set_progress(listen_import, 40, on_progress)
    index = CatalogIndex.load(
        spotify_ids={listen.spotify_id for listen in listens if listen and listen.spotify_id}
    )
    matched = _match(listens, index)
    del listens
    _set_progress(listen_import, 60, on_progress)

    with transaction.atomic():
        created = _insert_plays(listen_import, matched)
        plays = Counter(matched.track_ids)
        in_history = set(
            HistoryEntry.objects.filter(
                user_id=listen_import.user_id, track_id__in=list(plays)
            ).values_list("track_id", flat=True)
        )
        listen_import.listens = matched.listens
        listen_import.skipped = matched.skipped
        listen_import.matched = len(matched.track_ids)
        listen_import.unmatched = matched.listens - len(matched.track_ids)
        listen_import.created = created
        listen_import.duplicates = len(matched.track_ids) - created
        listen_import.top_unmatched = [
            {"artist": artist, "title": title, "count": count}
            for (artist, title), count in matched.unmatched.most_common(TOP_UNMATCHED_SIZE)
        ]
        listen_import.offered_track_ids = [
            track_id
            for track_id, _count in sorted(plays.items(), key=lambda item: (-item[1], item[0]))
            if track_id not in in_history
        ][:OFFER_SIZE]
        listen_import.status = ListenImport.Status.DONE
        listen_import.progress = 100
        listen_import.finished_at = timezone.now()
        listen_import.data = None  # processed: the upload is no longer needed
        # an UPDATE only: an import cannot be undone while processing (see listen_import_undo)
        listen_import.save(force_update=True)
    if on_progress is not None:
        on_progress(100)


@transaction.atomic
def listen_import_undo(*, user: User, import_id: int) -> int:
    """Delete the plays an import created, then the import; return how many plays went.

    A pending import is simply cancelled. An import being processed cannot be undone until it
    is done (``import_processing``, 409): the row lock taken here and the worker's conditional
    claim make the two exclusive. Another listener's import is "not found".

    Plays are stored once: when a later import of an overlapping file found some of them already
    there (its ``duplicates``), undoing the earlier import removes them too.
    """
    listen_import = listen_import_list(user=user).select_for_update().filter(pk=import_id).first()
    if listen_import is None:
        raise ApplicationError("No import with this id.", code="not_found", status=404)
    if listen_import.status == ListenImport.Status.PROCESSING:
        raise ApplicationError(
            "This import is being processed; undo it once it is done.",
            code="import_processing",
            status=409,
        )
    deleted, _ = Interaction.objects.filter(listen_import=listen_import).delete()
    listen_import.delete()
    return deleted


def listen_import_offer_accept(
    *, user: User, import_id: int, track_ids: list[int]
) -> HistoryChange:
    """Add tracks the import offered to the history, all or nothing against the 50 limit."""
    listen_import = listen_import_get(user=user, import_id=import_id)
    if not track_ids:
        raise ApplicationError("Pick at least one track.", code="invalid")
    not_offered = sorted(set(track_ids) - set(listen_import.offered_track_ids))
    if not_offered:
        raise ApplicationError(
            "Only tracks this import offered can be added from it.",
            code="not_offered",
            extra={"not_offered": not_offered},
        )
    return history_entries_add(user=user, track_ids=track_ids)
