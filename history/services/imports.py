"""Every change made by listening-data imports.

The upload request does little, whatever the file: it checks the size and the format from a
bounded sample (``detect_format``: the first entries; a ZIP's directory), stores the bytes in
PostgreSQL (``ListenImport.data``) and sends ``history.process_listen_import`` once the
transaction commits. The worker (or ``manage.py import_listens``) then reads the whole file,
streamed and within ``LISTEN_IMPORT_MAX_ENTRIES`` / ``LISTEN_IMPORT_MAX_ENTRY_BYTES``, matches it
and inserts the plays in one transaction: a file that turns out corrupt past the sample fails the
import with the parser's message (what is wrong, where) and stores no play.

Idempotency: imported plays carry their import, and a partial unique index on (user, track,
occurred_at) for imported plays makes a listen that is already stored count as a duplicate —
importing the same file twice (or two overlapping exports) adds nothing twice.

Bound: a listener keeps at most ``LISTEN_IMPORT_MAX_PLAYS_PER_LISTENER`` imported plays. An
import that would pass it stores its newest listens up to the limit, finishes ``done`` and
counts the rest in ``over_limit`` (the page and the API say so); undoing an older import makes
room.
"""

from __future__ import annotations

import io
import logging
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from history.listen_formats.parsers import ExportError, Limits, detect_format, iter_listens
from history.models import HistoryEntry, Interaction, ListenImport
from history.selectors.imports import listen_import_get, listen_import_list
from history.selectors.matching import CatalogIndex
from history.services.entries import HistoryChange, history_entries_add
from musicrec import queue
from musicrec.errors import ApplicationError
from musicrec.taste import TasteChange, taste_changed_on_commit

logger = logging.getLogger(__name__)

OFFER_SIZE = 20
TOP_UNMATCHED_SIZE = 20
# Rows per INSERT … SELECT FROM unnest(…): one round trip each, bounded memory per statement.
INSERT_BATCH = 20_000
_MAX_MS = 2**31 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def listen_limits() -> Limits:
    """The parsers' caps: ``LISTEN_IMPORT_MAX_ENTRIES``, ``LISTEN_IMPORT_MAX_ENTRY_BYTES``."""
    return Limits(
        max_entries=settings.LISTEN_IMPORT_MAX_ENTRIES,
        max_entry_bytes=settings.LISTEN_IMPORT_MAX_ENTRY_BYTES,
    )


ProgressCallback = Callable[[int], None]


def _read_upload(file: UploadedFile) -> bytes:
    limit = settings.LISTEN_IMPORT_MAX_BYTES
    if file.size is not None and file.size > limit:
        raise _too_large(limit)
    buffer = getattr(file, "file", None)
    if isinstance(buffer, io.BytesIO) and file.size is not None:
        # An upload held in memory (musicrec.uploads): its own buffer, not a copy of 50 MB.
        data = buffer.getvalue()
    else:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    return data


# Django's psycopg cursors bind parameters client-side: 50 MB of bytes would be spelled out as
# 100 MB of hex inside an even longer query string, in the request. The upload goes in and out
# through a plain psycopg cursor instead: a binary parameter, a binary result.
def _upload_store(*, import_id: int, data: bytes) -> None:
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"UPDATE {ListenImport._meta.db_table} SET data = %s WHERE id = %s", [data, import_id]
        )


def _upload_load(*, import_id: int) -> bytes:
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"SELECT data FROM {ListenImport._meta.db_table} WHERE id = %s",
            [import_id],
            binary=True,
        )
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def _too_large(limit: int) -> ApplicationError:
    return ApplicationError(
        f"The file is larger than {limit // (1024 * 1024)} MB.",
        code="file_too_large",
        status=413,
        extra={"max_bytes": limit},
    )


def listen_import_create(*, user: User, file: UploadedFile, enqueue: bool = True) -> ListenImport:
    """Store an upload for processing, after checking its size and, from a bounded sample, its
    format (``detect_format``).

    An unknown format, or a file corrupt within the sample, is refused (``invalid_export``) and
    nothing is stored; the rest of the file is read by the worker. The processing task is sent
    once the transaction commits.
    """
    data = _read_upload(file)
    try:
        fmt = detect_format(data, limits=listen_limits())
    except ExportError as error:
        raise ApplicationError(str(error), code="invalid_export") from None
    with transaction.atomic():
        listen_import = ListenImport.objects.create(
            user=user,
            format=fmt,
            file_name=(getattr(file, "name", "") or "")[:255],
            file_size=len(data),
        )
        _upload_store(import_id=listen_import.pk, data=data)
        if enqueue:
            queue.enqueue_on_commit("history.process_listen_import", listen_import.pk)
    return listen_import


@dataclass
class _Read:
    """One pass over an export, kept compact (arrays of 8-byte numbers, names only for listens
    not found): each listen's track matched by name (0: none), its Spotify id (an index into
    ``spotify_ids``, -1: none) to look up afterwards in one go, its time and listened time."""

    by_name: array[int] = field(default_factory=lambda: array("q"))
    spotify: array[int] = field(default_factory=lambda: array("q"))
    times: array[int] = field(default_factory=lambda: array("q"))  # µs since 1970 (UTC)
    ms: array[int] = field(default_factory=lambda: array("q"))  # -1: unknown
    spotify_ids: dict[str, int] = field(default_factory=dict)
    listens: int = 0
    skipped: int = 0
    # listens matched by nothing yet: by (artist, title), and by (Spotify id, artist, title)
    unknown: Counter[tuple[str, str]] = field(default_factory=Counter)
    unknown_with_id: Counter[tuple[int, str, str]] = field(default_factory=Counter)


@dataclass
class _Matched:
    """The matched plays (parallel arrays) and what did not match."""

    track_ids: array[int]
    times: array[int]
    ms: array[int]
    unmatched: Counter[tuple[str, str]]
    listens: int
    skipped: int


def _read(data: bytes, fmt: str, index: CatalogIndex) -> _Read:
    """Parse the whole export (streamed) and match every listen by name. Raises ExportError."""
    read = _Read()
    for listen in iter_listens(data, fmt, limits=listen_limits()):
        if listen is None:
            read.skipped += 1
            continue
        read.listens += 1
        track_id = index.match_name(artist=listen.artist, title=listen.title)
        spotify = -1
        if listen.spotify_id:
            spotify = read.spotify_ids.setdefault(listen.spotify_id, len(read.spotify_ids))
        if track_id is None:
            if spotify < 0:
                read.unknown[(listen.artist, listen.title)] += 1
            else:
                read.unknown_with_id[(spotify, listen.artist, listen.title)] += 1
        read.by_name.append(track_id or 0)
        read.spotify.append(spotify)
        delta = listen.occurred_at - _EPOCH
        read.times.append((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)
        read.ms.append(-1 if listen.ms_played is None else min(listen.ms_played, _MAX_MS))
    return read


def _match(read: _Read, index: CatalogIndex) -> _Matched:
    """Spotify ids first (looked up now, all at once), then the match by name."""
    index.load_spotify_ids(spotify_ids=read.spotify_ids)
    by_spotify = [index.by_spotify_id.get(spotify_id, 0) for spotify_id in read.spotify_ids]
    matched = _Matched(array("q"), array("q"), array("q"), read.unknown, read.listens, read.skipped)
    for number, spotify in enumerate(read.spotify):
        track_id = (by_spotify[spotify] if spotify >= 0 else 0) or read.by_name[number]
        if track_id:
            matched.track_ids.append(track_id)
            matched.times.append(read.times[number])
            matched.ms.append(read.ms[number])
    for (spotify, artist, title), count in read.unknown_with_id.items():
        if not by_spotify[spotify]:
            matched.unmatched[(artist, title)] += count
    return matched


@dataclass
class _Stored:
    created: int = 0
    over_limit: int = 0


# One statement per batch: the batch's listens not stored yet (once each), the newest first, up
# to the room left under the per-listener limit; answers how many there were and how many went
# in. ON CONFLICT is the idempotency guarantee itself (the NOT EXISTS only counts).
_INSERT_PLAYS = """
    WITH batch AS (
        SELECT DISTINCT ON (u.track_id, u.occurred_at) u.track_id, u.occurred_at, u.listened_ms
        FROM unnest(%(track_ids)s::bigint[], %(times)s::timestamptz[], %(ms)s::integer[])
            AS u(track_id, occurred_at, listened_ms)
        ORDER BY u.track_id, u.occurred_at
    ),
    new AS (
        SELECT b.* FROM batch b
        WHERE NOT EXISTS (
            SELECT 1 FROM {table} i
            WHERE i.user_id = %(user_id)s AND i.track_id = b.track_id
              AND i.occurred_at = b.occurred_at
              AND i.kind = 'play' AND i.listen_import_id IS NOT NULL
        )
    ),
    inserted AS (
        INSERT INTO {table}
            (user_id, track_id, kind, occurred_at, recorded_at, listened_ms, mood, activity,
             listen_import_id)
        SELECT %(user_id)s, n.track_id, 'play', n.occurred_at, %(now)s, n.listened_ms, '', '',
            %(import_id)s
        FROM new n
        ORDER BY n.occurred_at DESC
        LIMIT %(room)s
        ON CONFLICT (user_id, track_id, occurred_at)
            WHERE kind = 'play' AND listen_import_id IS NOT NULL
        DO NOTHING
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM new), (SELECT count(*) FROM inserted)
"""


def _imported_plays_lock_and_count(*, user_id: int) -> int:
    """Take the listener's imported-plays lock (until the transaction ends: two imports of one
    listener store one after the other, so the limit holds) and count their imported plays."""
    table = Interaction._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('history.imported_plays:' || %s, 0))",
            [user_id],
        )
        cursor.execute(
            f"SELECT count(*) FROM {table} "
            "WHERE user_id = %s AND kind = 'play' AND listen_import_id IS NOT NULL",
            [user_id],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _newest_first(matched: _Matched) -> Iterator[int]:
    """Positions of the matched plays, the newest first (only needed when some will not fit)."""
    return iter(sorted(range(len(matched.times)), key=matched.times.__getitem__, reverse=True))


def _insert_plays(listen_import: ListenImport, matched: _Matched) -> _Stored:
    """Insert the matched plays within the per-listener limit (call inside a transaction)."""
    room = settings.LISTEN_IMPORT_MAX_PLAYS_PER_LISTENER - _imported_plays_lock_and_count(
        user_id=listen_import.user_id
    )
    total = len(matched.track_ids)
    order: Iterator[int] = iter(range(total)) if total <= room else _newest_first(matched)
    sql = _INSERT_PLAYS.format(table=Interaction._meta.db_table)
    now = timezone.now()
    stored = _Stored()
    with connection.cursor() as cursor:
        for _start in range(0, total, INSERT_BATCH):
            batch = [next(order) for _ in range(min(INSERT_BATCH, total - _start))]
            cursor.execute(
                sql,
                {
                    "user_id": listen_import.user_id,
                    "import_id": listen_import.pk,
                    "now": now,
                    "room": max(room, 0),
                    "track_ids": [matched.track_ids[n] for n in batch],
                    "times": [_EPOCH + timedelta(microseconds=matched.times[n]) for n in batch],
                    "ms": [matched.ms[n] if matched.ms[n] >= 0 else None for n in batch],
                },
            )
            row = cursor.fetchone()
            new, created = (int(row[0]), int(row[1])) if row else (0, 0)
            room -= created
            stored.created += created
            stored.over_limit += new - created
    return stored


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
    listen_import = ListenImport.objects.defer("data").filter(pk=import_id).first()
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
    data = _upload_load(import_id=listen_import.pk)
    _set_progress(listen_import, 10, on_progress)
    index = CatalogIndex.load()
    read = _read(data, listen_import.format, index)
    del data
    _set_progress(listen_import, 40, on_progress)
    matched = _match(read, index)
    del read, index
    _set_progress(listen_import, 60, on_progress)

    with transaction.atomic():
        stored = _insert_plays(listen_import, matched)
        plays = Counter(matched.track_ids)
        in_history = set(
            HistoryEntry.objects.filter(
                user_id=listen_import.user_id, track_id__in=list(plays)
            ).values_list("track_id", flat=True)
        )
        matched_count = len(matched.track_ids)
        listen_import.listens = matched.listens
        listen_import.skipped = matched.skipped
        listen_import.matched = matched_count
        listen_import.unmatched = listen_import.listens - matched_count
        listen_import.created = stored.created
        listen_import.over_limit = stored.over_limit
        listen_import.duplicates = matched_count - stored.created - stored.over_limit
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
        if stored.created:
            taste_changed_on_commit(user_id=listen_import.user_id, reason=TasteChange.IMPORT)
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
    if deleted:
        taste_changed_on_commit(user_id=user.pk, reason=TasteChange.IMPORT)
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
