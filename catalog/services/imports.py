"""Catalog import: Spotify-style tracks CSV → genres, artists, albums, tracks.

How it works, and why:

1. Rows are read one at a time (the file is streamed, never held in memory), validated in
   Python, and the valid ones are written with ``COPY`` into a temporary staging table. Each
   rejected row is reported with its row number and reason and changes nothing.
2. Set-based SQL then upserts from the staging table: one statement per table instead of one
   per row, which is what brings 114k rows to a few seconds. A track listed under several
   genres is one track: its other fields come from its last row, its genres are the union of
   all its rows and of the genres it already has (an import adds genres, never removes them,
   so a one-genre row imported from the admin cannot strip a track's other genres). Artist
   credits follow the file (the order of the ``artists`` field, first = primary).
3. Everything from the staging table on happens in one transaction: an error or Ctrl-C in the
   middle leaves the catalog exactly as it was.

Counts are per track (the ~114k rows of the real file hold ~89.7k tracks): created, updated
(any stored field, credit or genre changed) and unchanged, plus rejected rows.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import connection, transaction
from django.utils.text import slugify

from catalog.models import (
    FEATURE_RANGES,
    MAX_DURATION_MS,
    POPULARITY_RANGE,
    RELEASE_YEAR_RANGE,
    UNIT_FEATURES,
)
from catalog.services.changes import tracks_changed_notify
from catalog.services.search_documents import (
    search_documents_update_sql,
    search_indexes_settle,
    search_terms_refresh,
)
from musicrec.errors import ApplicationError

REQUIRED_COLUMNS = ("track_id", "track_name", "artists")
# Every column the importer reads, in the order of the Spotify tracks dataset (then the one
# column it lacks). The admin's CSV export writes exactly these.
KNOWN_COLUMNS = (
    "track_id",
    "artists",
    "album_name",
    "track_name",
    "popularity",
    "duration_ms",
    "explicit",
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "time_signature",
    "track_genre",
    "release_year",
)
# The columns that hold text (names); the others hold numbers, ids and flags.
TEXT_COLUMNS = ("artists", "album_name", "track_name", "track_genre")
# A spreadsheet runs a cell that starts with one of these as a formula ("CSV injection", OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MAX_TITLE = 1000
MAX_ARTIST = 600
MAX_GENRE = 100
TRUE_WORDS = {"true", "1", "yes", "t", "y"}
FALSE_WORDS = {"false", "0", "no", "f", "n", ""}
PROGRESS_EVERY = 1000

# The staging table, in the order rows are written by COPY.
STAGE_COLUMNS = (
    "row_no",
    "spotify_id",
    "title",
    "artists",
    "album",
    "popularity",
    "duration_ms",
    "explicit",
    "release_year",
    *UNIT_FEATURES,
    "tempo",
    "loudness",
    "key",
    "mode",
    "time_signature",
    "genre_name",
    "genre_slug",
)
TRACK_FIELDS = (
    "title",
    "album_id",
    "popularity",
    "duration_ms",
    "explicit",
    "release_year",
    *UNIT_FEATURES,
    "tempo",
    "loudness",
    "key",
    "mode",
    "time_signature",
)


class RowRejected(ValueError):
    """One row cannot be imported; ``reasons`` say why (every problem of the row, one each)."""

    def __init__(self, *reasons: str) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = list(reasons)


@dataclass
class RejectedRow:
    row: int
    track_id: str
    reason: str  # every reason, "; "-joined (the command's report and rejects file)
    reasons: list[str] = field(default_factory=list)  # one per problem ("column: message")


@dataclass
class ImportSummary:
    rows_read: int = 0
    tracks_in_file: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    genres_created: int = 0
    artists_created: int = 0
    albums_created: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    created_ids: list[str] = field(default_factory=list)
    updated_ids: list[str] = field(default_factory=list)

    @property
    def rejected_count(self) -> int:
        return len(self.rejected)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "tracks_in_file": self.tracks_in_file,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected_count,
            "genres_created": self.genres_created,
            "artists_created": self.artists_created,
            "albums_created": self.albums_created,
            "seconds": round(self.seconds, 2),
            "dry_run": self.dry_run,
        }


# --------------------------------------------------------------------------- formula escape


def _formula_like(text: str) -> bool:
    return text.lstrip("'")[:1] in FORMULA_TRIGGERS  # "" is in no trigger


def csv_cell_escape(text: str) -> str:
    """A text cell as the export writes it: prefixed with ``'`` when a spreadsheet would run it
    as a formula (``=LOVE``, ``-M-``, ``@name``), so it shows as text.

    A cell that already starts with ``'`` before such a character gets one more, so that
    :func:`csv_cell_unescape` always gives back exactly the text. Numeric columns are never
    escaped: ``-5.2`` is a number, not a formula.
    """
    return f"'{text}" if _formula_like(text) else text


def csv_cell_unescape(text: str) -> str:
    """Undo :func:`csv_cell_escape`: an export re-imports to the same names. A name that merely
    starts with a quote ("'Til Tuesday") is kept as it is."""
    return text[1:] if text.startswith("'") and _formula_like(text[1:]) else text


# --------------------------------------------------------------------------- row validation


def _number(raw: Mapping[str, str], name: str, *, integer: bool = False) -> float | int | None:
    text = (raw.get(name) or "").strip()
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise RowRejected(f"{name}: {text[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise RowRejected(f"{name}: {text[:40]!r} is not a finite number")
    if integer:
        if value != int(value):
            raise RowRejected(f"{name}: {text[:40]!r} is not a whole number")
        return int(value)
    return value


def _in_range(name: str, value: float | None, low: float, high: float) -> float | int | None:
    if value is not None and not (low <= value <= high):
        raise RowRejected(f"{name}: {value} is outside {low}–{high}")
    return value


def _text(raw: Mapping[str, str], name: str, limit: int) -> str:
    text = " ".join(csv_cell_unescape((raw.get(name) or "").strip()).split())
    if len(text) > limit:
        raise RowRejected(f"{name}: longer than {limit} characters")
    return text


def _spotify_id(raw: Mapping[str, str]) -> str:
    spotify_id = (raw.get("track_id") or "").strip()
    if not spotify_id:
        raise RowRejected("track_id: missing")
    if len(spotify_id) != 22 or not spotify_id.isascii() or not spotify_id.isalnum():
        raise RowRejected(f"track_id: {spotify_id[:40]!r} is not a 22-character Spotify id")
    return spotify_id


def _title(raw: Mapping[str, str]) -> str:
    title = _text(raw, "track_name", MAX_TITLE)
    if not title:
        raise RowRejected("track_name: missing")
    return title


def _artists(raw: Mapping[str, str]) -> list[str]:
    artists: list[str] = []
    for part in csv_cell_unescape((raw.get("artists") or "").strip()).split(";"):
        name = " ".join(part.split())
        if len(name) > MAX_ARTIST:
            raise RowRejected(f"artists: a name is longer than {MAX_ARTIST} characters")
        if name and name not in artists:
            artists.append(name)
    if not artists:
        raise RowRejected("artists: missing")
    return artists


def _duration(raw: Mapping[str, str]) -> int:
    duration = _number(raw, "duration_ms", integer=True)
    if duration is None:
        raise RowRejected("duration_ms: missing")
    _in_range("duration_ms", duration, 0, MAX_DURATION_MS)
    return int(duration)


def _explicit(raw: Mapping[str, str]) -> bool:
    explicit_text = (raw.get("explicit") or "").strip().lower()
    if explicit_text in TRUE_WORDS:
        return True
    if explicit_text in FALSE_WORDS:
        return False
    raise RowRejected(f"explicit: {explicit_text[:40]!r} is not true or false")


def _genre(raw: Mapping[str, str]) -> tuple[str, str]:
    genre = _text(raw, "track_genre", MAX_GENRE)
    slug = slugify(genre) if genre else ""
    if genre and not slug:
        raise RowRejected(f"track_genre: {genre!r} has no letters or digits")
    return genre, slug


def _bounded(raw: Mapping[str, str], name: str, low: float, high: float) -> float | int | None:
    """An optional number within [low, high]: whole when the bounds are."""
    integer = isinstance(low, int) and isinstance(high, int)
    return _in_range(name, _number(raw, name, integer=integer), low, high)


# The optional numbers of a row, with their ranges.
BOUNDED_COLUMNS: tuple[tuple[str, float, float], ...] = (
    ("popularity", *POPULARITY_RANGE),
    ("release_year", *RELEASE_YEAR_RANGE),
    *((name, *FEATURE_RANGES[name]) for name in (*UNIT_FEATURES, "tempo", "loudness")),
    *((name, *FEATURE_RANGES[name]) for name in ("key", "mode", "time_signature")),
)


def parse_row(raw: Mapping[str, str]) -> dict[str, Any]:
    """Validate one CSV row; return the staged values or raise :class:`RowRejected` with every
    problem of the row (a curator fixes them all in one go, not one per upload)."""
    reasons: list[str] = []

    def checked(parse: Callable[..., Any], *args: Any) -> Any:
        try:
            return parse(raw, *args)
        except RowRejected as exc:
            reasons.extend(exc.reasons)
            return None

    values: dict[str, Any] = {
        "spotify_id": checked(_spotify_id),
        "title": checked(_title),
        "artists": checked(_artists),
        "album": checked(_text, "album_name", MAX_TITLE),
        "duration_ms": checked(_duration),
        "explicit": checked(_explicit),
    }
    for name, low, high in BOUNDED_COLUMNS:
        values[name] = checked(_bounded, name, low, high)
    if values["popularity"] is None:
        values["popularity"] = 0
    values["genre_name"], values["genre_slug"] = checked(_genre) or ("", "")
    if reasons:
        raise RowRejected(*reasons)
    return values


# --------------------------------------------------------------------------- import


def catalog_import_rows(
    *,
    rows: Iterable[Mapping[str, str]],
    first_row_number: int = 2,
    dry_run: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import rows (dicts keyed by the CSV column names) into the catalog.

    ``first_row_number`` is the number reported for the first row (2 for a CSV file, whose
    header is row 1). With ``dry_run`` everything runs and is counted, then rolled back.
    ``on_progress(n)`` is called every ``PROGRESS_EVERY`` rows and at the end with the count of
    rows read so far.
    """
    started = time.perf_counter()
    summary = ImportSummary(dry_run=dry_run)
    with transaction.atomic():
        with connection.cursor() as cursor:
            _create_stage(cursor)
            with cursor.copy(f"COPY import_stage ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
                for index, raw in _guarded(rows, first_row_number):
                    row_no = first_row_number + index
                    summary.rows_read += 1
                    try:
                        values = parse_row(raw)
                    except RowRejected as exc:
                        track_id = (raw.get("track_id") or "").strip()[:40]
                        summary.rejected.append(
                            RejectedRow(row_no, track_id, str(exc), exc.reasons)
                        )
                    else:
                        copy.write_row([row_no, *(values[name] for name in STAGE_COLUMNS[1:])])
                    if on_progress and summary.rows_read % PROGRESS_EVERY == 0:
                        on_progress(summary.rows_read)
            if on_progress:
                on_progress(summary.rows_read)
            changed_ids = _upsert_from_stage(cursor, summary)
            # ON COMMIT DROP is not enough when the import runs inside an outer transaction
            # (a test, or a request): drop them now so a second import can create them again.
            cursor.execute(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")
        if dry_run:
            transaction.set_rollback(True)
        else:
            # what is derived per track (the recommender's vectors) is written in this
            # transaction too: no reader ever sees an imported track without it
            tracks_changed_notify(track_ids=changed_ids)
    if not dry_run and (summary.created or summary.updated):
        search_indexes_settle()
        search_terms_refresh()
    summary.seconds = time.perf_counter() - started
    return summary


def _guarded(
    rows: Iterable[Mapping[str, str]], first_row_number: int
) -> Iterable[tuple[int, Mapping[str, str]]]:
    """Enumerate rows, turning an unreadable file into one clear error (nothing is kept)."""
    index = 0
    iterator = iter(rows)
    while True:
        try:
            raw = next(iterator)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise ApplicationError(
                f"Row {first_row_number + index}: the file is not UTF-8 text; "
                "nothing was imported.",
                code="file_not_utf8",
            ) from None
        except csv.Error as exc:
            raise ApplicationError(
                f"Row {first_row_number + index}: the file is not valid CSV ({exc}); "
                "nothing was imported.",
                code="file_not_csv",
            ) from None
        yield index, raw
        index += 1


def catalog_import_file(
    *,
    path: str | Path,
    dry_run: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import a CSV or gzip-compressed CSV file (see :func:`catalog_import_rows`)."""
    with CatalogCsv(path) as handle:
        return catalog_import_stream(stream=handle, dry_run=dry_run, on_progress=on_progress)


def catalog_import_stream(
    *,
    stream: IO[str],
    dry_run: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    reader = csv.DictReader(stream)
    try:
        columns = reader.fieldnames or []
    except UnicodeDecodeError:
        raise ApplicationError(
            "The file is not UTF-8 text; nothing was imported.", code="file_not_utf8"
        ) from None
    except csv.Error as exc:
        raise ApplicationError(
            f"The file is not valid CSV ({exc}); nothing was imported.", code="file_not_csv"
        ) from None
    check_columns(columns)
    return catalog_import_rows(rows=reader, dry_run=dry_run, on_progress=on_progress)


def check_columns(columns: Iterable[str]) -> None:
    present = {(name or "").strip() for name in columns}
    missing = [name for name in REQUIRED_COLUMNS if name not in present]
    if missing:
        raise ApplicationError(
            f"The file has no {', '.join(missing)} column"
            f"{'s' if len(missing) > 1 else ''}; a catalog CSV needs "
            f"{', '.join(REQUIRED_COLUMNS)}.",
            code="missing_columns",
            extra={"missing": missing},
        )


class CatalogCsv:
    """Open ``path`` as text for the csv module, transparently un-gzipping ``*.gz`` files.

    ``position()`` reports how many bytes of the file on disk have been read, for a progress bar.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._raw: IO[bytes] | None = None
        self._text: IO[str] | None = None

    def __enter__(self) -> IO[str]:
        try:
            self._raw = self.path.open("rb")
        except OSError as exc:
            raise ApplicationError(
                f"Cannot open {self.path}: {exc.strerror}", code="file_unreadable"
            ) from None
        magic = self._raw.read(2)
        self._raw.seek(0)
        binary: IO[bytes] = (
            gzip.GzipFile(fileobj=self._raw) if magic == b"\x1f\x8b" else self._raw  # type: ignore[assignment]
        )
        self._text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        return self._text

    def position(self) -> int:
        return self._raw.tell() if self._raw and not self._raw.closed else 0

    def size(self) -> int:
        return self.path.stat().st_size

    def __exit__(self, *exc_info: object) -> None:
        if self._text is not None:
            self._text.close()
        if self._raw is not None:
            self._raw.close()


# --------------------------------------------------------------------------- SQL


TEMP_TABLES = (
    "import_stage",
    "import_track",
    "import_result",
    "import_ids",
    "import_credit",
    "import_credit_changed",
    "import_genre_added",
    "import_document",
)


def _create_stage(cursor: Any) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")
    cursor.execute(
        """
        CREATE TEMPORARY TABLE import_stage (
            row_no integer NOT NULL,
            spotify_id text NOT NULL,
            title text NOT NULL,
            artists text[] NOT NULL,
            album text NOT NULL,
            popularity smallint NOT NULL,
            duration_ms integer NOT NULL,
            explicit boolean NOT NULL,
            release_year smallint,
            danceability double precision,
            energy double precision,
            valence double precision,
            acousticness double precision,
            instrumentalness double precision,
            speechiness double precision,
            liveness double precision,
            tempo double precision,
            loudness double precision,
            key smallint,
            mode smallint,
            time_signature smallint,
            genre_name text NOT NULL,
            genre_slug text NOT NULL
        ) ON COMMIT DROP
        """
    )


def _upsert_from_stage(cursor: Any, summary: ImportSummary) -> list[int]:
    """Upsert the staged rows; return the ids of the tracks created or changed."""
    # One row per track: the last row of the file wins for every field but the genres.
    cursor.execute(
        """
        CREATE TEMPORARY TABLE import_track ON COMMIT DROP AS
        SELECT DISTINCT ON (spotify_id) *
        FROM import_stage ORDER BY spotify_id, row_no DESC
        """
    )
    cursor.execute("CREATE UNIQUE INDEX ON import_track (spotify_id)")
    cursor.execute("ANALYZE import_track")
    cursor.execute("SELECT count(*) FROM import_track")
    summary.tracks_in_file = cursor.fetchone()[0]
    if summary.tracks_in_file == 0:
        return []

    # Genres (keyed by slug; the first spelling seen names a new genre).
    cursor.execute(
        """
        INSERT INTO catalog_genre (name, slug)
        SELECT DISTINCT ON (genre_slug) genre_name, genre_slug
        FROM import_stage WHERE genre_slug <> '' ORDER BY genre_slug, row_no
        ON CONFLICT DO NOTHING
        """
    )
    summary.genres_created = cursor.rowcount

    # Artists.
    cursor.execute(
        """
        INSERT INTO catalog_artist (name, created_at)
        SELECT DISTINCT name, now() FROM import_track, unnest(artists) AS name
        ON CONFLICT (name) DO NOTHING
        """
    )
    summary.artists_created = cursor.rowcount
    if summary.artists_created:
        cursor.execute("ANALYZE catalog_artist")

    # Albums, keyed by (name, primary artist).
    cursor.execute(
        """
        INSERT INTO catalog_album (name, primary_artist_id)
        SELECT DISTINCT s.album, a.id
        FROM import_track s JOIN catalog_artist a ON a.name = s.artists[1]
        WHERE s.album <> ''
        ON CONFLICT (name, primary_artist_id) DO NOTHING
        """
    )
    summary.albums_created = cursor.rowcount
    if summary.albums_created:
        cursor.execute("ANALYZE catalog_album")

    # A new track's search document, known from the file alone (credits follow the file; its
    # genres are the file's). Writing it with the INSERT saves rewriting every new row (and
    # both search indexes) afterwards; the final refresh fixes the few that differ.
    cursor.execute(
        """
        CREATE TEMPORARY TABLE import_document ON COMMIT DROP AS
        SELECT s.spotify_id,
               concat_ws(E'\\n', s.title, array_to_string(s.artists, ', '),
                         nullif(s.album, ''), g.names) AS document
        FROM import_track s
        LEFT JOIN (
            SELECT st.spotify_id, string_agg(DISTINCT gg.name, ' ' ORDER BY gg.name) AS names
            FROM import_stage st JOIN catalog_genre gg ON gg.slug = st.genre_slug
            GROUP BY st.spotify_id
        ) AS g ON g.spotify_id = s.spotify_id
        """
    )
    cursor.execute("CREATE UNIQUE INDEX ON import_document (spotify_id)")

    # Tracks: insert new ones; update existing ones only where a value differs.
    columns = ", ".join(TRACK_FIELDS)
    source = ", ".join("al.id" if name == "album_id" else f"s.{name}" for name in TRACK_FIELDS)
    assignments = ", ".join(f"{name} = EXCLUDED.{name}" for name in TRACK_FIELDS)
    current = ", ".join(f"catalog_track.{name}" for name in TRACK_FIELDS)
    incoming = ", ".join(f"EXCLUDED.{name}" for name in TRACK_FIELDS)
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE import_result ON COMMIT DROP AS
        WITH upserted AS (
            INSERT INTO catalog_track (spotify_id, {columns}, search_document,
                                       created_at, updated_at)
            SELECT s.spotify_id, {source}, d.document, now(), now()
            FROM import_track s
            JOIN import_document d ON d.spotify_id = s.spotify_id
            LEFT JOIN catalog_artist pa ON pa.name = s.artists[1]
            LEFT JOIN catalog_album al ON al.name = s.album AND al.primary_artist_id = pa.id
            ON CONFLICT (spotify_id) WHERE NOT (spotify_id = '')
            DO UPDATE SET {assignments}, updated_at = now()
            WHERE ({current}) IS DISTINCT FROM ({incoming})
            RETURNING id, spotify_id, (xmax = 0) AS inserted
        )
        SELECT * FROM upserted
        """
    )
    cursor.execute(
        "CREATE TEMPORARY TABLE import_ids ON COMMIT DROP AS "
        "SELECT t.id, t.spotify_id FROM catalog_track t "
        "JOIN import_track s ON s.spotify_id = t.spotify_id"
    )
    cursor.execute("CREATE UNIQUE INDEX ON import_ids (id)")
    cursor.execute("ANALYZE import_ids")

    # Artist credits follow the file; only tracks whose credits differ are rewritten.
    cursor.execute(
        """
        CREATE TEMPORARY TABLE import_credit ON COMMIT DROP AS
        SELECT i.id AS track_id, a.id AS artist_id, (u.ord - 1)::smallint AS position
        FROM import_track s
        JOIN import_ids i ON i.spotify_id = s.spotify_id
        CROSS JOIN LATERAL unnest(s.artists) WITH ORDINALITY AS u(name, ord)
        JOIN catalog_artist a ON a.name = u.name
        """
    )
    cursor.execute(
        """
        CREATE TEMPORARY TABLE import_credit_changed ON COMMIT DROP AS
        SELECT DISTINCT track_id FROM (
            (SELECT track_id, artist_id, position FROM import_credit
             EXCEPT
             SELECT ta.track_id, ta.artist_id, ta.position
             FROM catalog_trackartist ta JOIN import_ids i ON i.id = ta.track_id)
            UNION ALL
            (SELECT ta.track_id, ta.artist_id, ta.position
             FROM catalog_trackartist ta JOIN import_ids i ON i.id = ta.track_id
             EXCEPT
             SELECT track_id, artist_id, position FROM import_credit)
        ) AS diff
        """
    )
    cursor.execute(
        "DELETE FROM catalog_trackartist WHERE track_id IN "
        "(SELECT track_id FROM import_credit_changed)"
    )
    cursor.execute(
        """
        INSERT INTO catalog_trackartist (track_id, artist_id, position)
        SELECT c.track_id, c.artist_id, c.position FROM import_credit c
        JOIN import_credit_changed ch ON ch.track_id = c.track_id
        """
    )

    # Genres: the union of the file's rows and what the track already has.
    cursor.execute(
        """
        CREATE TEMPORARY TABLE import_genre_added ON COMMIT DROP AS
        WITH added AS (
            INSERT INTO catalog_track_genres (track_id, genre_id)
            SELECT DISTINCT i.id, g.id
            FROM import_stage s
            JOIN import_ids i ON i.spotify_id = s.spotify_id
            JOIN catalog_genre g ON g.slug = s.genre_slug
            WHERE s.genre_slug <> ''
            ON CONFLICT (track_id, genre_id) DO NOTHING
            RETURNING track_id
        )
        SELECT DISTINCT track_id FROM added
        """
    )

    # Per-track outcome.
    cursor.execute(
        """
        SELECT i.spotify_id,
               coalesce(r.inserted, false) AS inserted,
               i.id
        FROM import_ids i
        LEFT JOIN import_result r ON r.id = i.id
        LEFT JOIN import_credit_changed ch ON ch.track_id = i.id
        LEFT JOIN import_genre_added ga ON ga.track_id = i.id
        WHERE r.id IS NOT NULL OR ch.track_id IS NOT NULL OR ga.track_id IS NOT NULL
        """
    )
    changed_ids = []
    for spotify_id, inserted, track_id in cursor.fetchall():
        changed_ids.append(track_id)
        if inserted:
            summary.created_ids.append(spotify_id)
        else:
            summary.updated_ids.append(spotify_id)
    summary.created = len(summary.created_ids)
    summary.updated = len(summary.updated_ids)
    summary.unchanged = summary.tracks_in_file - summary.created - summary.updated

    # The search document is derived from all of the above: refresh it where it differs.
    cursor.execute("ANALYZE catalog_trackartist, catalog_track_genres, catalog_track")
    cursor.execute(search_documents_update_sql("SELECT id FROM import_ids"))
    return changed_ids
