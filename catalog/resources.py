"""The CSV import and export behind the track admin (django-import-export).

Import does not use django-import-export's per-row model saving: it hands the rows to
:func:`catalog.services.imports.catalog_import_rows`, the validation and set-based upsert that
``manage.py import_catalog`` runs, so a file means the same thing from either door. Its summary
is then turned back into import-export's ``Result`` (new / update / skip per row, rejected rows as
``InvalidRow`` with their reason) so the admin preview and confirm pages work unchanged.

Export writes the same Spotify-style columns, one row per (track, genre) because the importer
reads one genre per row; a track without genres gets one row with an empty ``track_genre``.
Names that a spreadsheet would run as a formula (``=LOVE``, ``-M-``, ``@name``) are written with
a leading ``'`` and read back without it (``csv_cell_escape`` / ``csv_cell_unescape``); numbers
such as a loudness of ``-5.2`` are left alone.
Re-importing an export therefore reproduces the tracks, with two limits of the format itself:
an artist name containing ``;`` is split on re-import, and an album is keyed by its name and the
track's first artist.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from import_export import exceptions
from import_export.fields import Field
from import_export.resources import ModelResource
from import_export.results import Error, Result, RowResult

from catalog.models import Track
from catalog.services.imports import (
    KNOWN_COLUMNS,
    ImportSummary,
    RejectedRow,
    catalog_import_rows,
    check_columns,
    csv_cell_escape,
)
from musicrec.errors import ApplicationError

CSV_COLUMNS = KNOWN_COLUMNS
# Track fields exported under their own name.
DERIVED_COLUMNS = {"track_id", "artists", "album_name", "track_name", "track_genre"}
PLAIN_COLUMNS = tuple(name for name in CSV_COLUMNS if name not in DERIVED_COLUMNS)
# What the admin preview shows of each row (the whole row would be 21 columns wide).
PREVIEW_COLUMNS = ("track_id", "track_name", "artists", "album_name", "track_genre")
# A dry run lists at most this many rows of each kind; the counts always cover the whole file.
PREVIEW_ROW_LIMIT = 1000
EXPORT_CHUNK_SIZE = 2000
FIRST_ROW_NUMBER = 2  # the header is row 1, as in the management command's report

logger = logging.getLogger(__name__)


class FileError(Error):
    """A problem with the whole file (a missing column): shown as a message, not a traceback."""

    @property
    def traceback(self) -> str:  # type: ignore[override]
        return ""


class CatalogImportResult(Result):
    """A ``Result`` that also carries the import service's summary and how many rows it omits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.summary: ImportSummary | None = None
        self.rows_not_listed = 0


class TrackResource(ModelResource):
    """Tracks as Spotify-style CSV rows; imports through the catalog import service."""

    track_id = Field(column_name="track_id", readonly=True)
    artists = Field(column_name="artists", readonly=True)
    album_name = Field(column_name="album_name", readonly=True)
    track_name = Field(column_name="track_name", readonly=True)
    popularity = Field(column_name="popularity", readonly=True)
    duration_ms = Field(column_name="duration_ms", readonly=True)
    explicit = Field(column_name="explicit", readonly=True)
    danceability = Field(column_name="danceability", readonly=True)
    energy = Field(column_name="energy", readonly=True)
    key = Field(column_name="key", readonly=True)
    loudness = Field(column_name="loudness", readonly=True)
    mode = Field(column_name="mode", readonly=True)
    speechiness = Field(column_name="speechiness", readonly=True)
    acousticness = Field(column_name="acousticness", readonly=True)
    instrumentalness = Field(column_name="instrumentalness", readonly=True)
    liveness = Field(column_name="liveness", readonly=True)
    valence = Field(column_name="valence", readonly=True)
    tempo = Field(column_name="tempo", readonly=True)
    time_signature = Field(column_name="time_signature", readonly=True)
    track_genre = Field(column_name="track_genre", readonly=True)
    release_year = Field(column_name="release_year", readonly=True)

    class Meta:
        model = Track
        name = "Spotify-style tracks CSV"
        fields = CSV_COLUMNS
        import_order = CSV_COLUMNS
        export_order = CSV_COLUMNS

    @classmethod
    def get_result_class(cls) -> type[CatalogImportResult]:
        return CatalogImportResult

    # ------------------------------------------------------------------ import

    def import_data(
        self,
        dataset: tablib.Dataset,
        dry_run: bool = False,
        raise_errors: bool = False,
        use_transactions: bool | None = None,
        collect_failed_rows: bool = False,
        rollback_on_validation_errors: bool = False,
        **kwargs: Any,
    ) -> CatalogImportResult:
        """Import ``dataset`` with the catalog import service and report it row by row.

        The service is all-or-nothing per file for errors and row-by-row for rejected rows; with
        ``rollback_on_validation_errors`` a single rejected row rolls the whole file back.
        ``use_transactions`` is ignored: the service always runs in one transaction.
        """
        result = CatalogImportResult()
        result.diff_headers = list(PREVIEW_COLUMNS)
        result.total_rows = len(dataset)
        headers = [(name or "").strip() for name in dataset.headers or []]
        rows = [_row_dict(headers, values) for values in dataset]
        if collect_failed_rows:
            result.add_dataset_headers(headers)
        try:
            check_columns(headers)
            with transaction.atomic():
                summary = catalog_import_rows(
                    rows=rows, dry_run=dry_run, first_row_number=FIRST_ROW_NUMBER
                )
                if summary.rejected and (rollback_on_validation_errors or raise_errors):
                    transaction.set_rollback(True)
        except ApplicationError as exc:
            result.append_base_error(FileError(exc))
            if raise_errors:
                raise exceptions.ImportError(exc) from exc
            return result
        except Exception as exc:
            # As django-import-export does: a failure is reported on the page (and logged),
            # the transaction is rolled back, and the curator gets no bare server error.
            logger.exception("Catalog import from the admin failed")
            if raise_errors:
                raise exceptions.ImportError(exc) from exc
            result.append_base_error(Error(exc))
            return result

        result.summary = summary
        self._report_rows(result, summary, rows, dry_run=dry_run)
        if raise_errors and summary.rejected:
            first = summary.rejected[0]
            raise exceptions.ImportError(
                first.reason, number=first.row, row=rows[first.row - FIRST_ROW_NUMBER]
            )
        return result

    def _report_rows(
        self,
        result: CatalogImportResult,
        summary: ImportSummary,
        rows: list[dict[str, str]],
        *,
        dry_run: bool,
    ) -> None:
        """Give each row the outcome of its track; totals count tracks, as the command does."""
        rejected = {item.row: item for item in summary.rejected}
        created = set(summary.created_ids)
        updated = set(summary.updated_ids)
        limit = PREVIEW_ROW_LIMIT if dry_run else None
        listed_valid = listed_invalid = 0
        for index, row in enumerate(rows):
            number = FIRST_ROW_NUMBER + index
            if number in rejected:
                if limit is not None and listed_invalid >= limit:
                    result.rows_not_listed += 1
                    continue
                listed_invalid += 1
                error = _validation_error(rejected[number])
                row_result = RowResult()
                row_result.import_type = RowResult.IMPORT_TYPE_INVALID
                row_result.validation_error = error
                row_result.row_values = row
                result.append_invalid_row(number, row, error)
                result.append_row_result(row_result)
                if result.failed_dataset.headers:
                    result.append_failed_row(row, rejected[number].reason)
                continue
            if limit is not None and listed_valid >= limit:
                result.rows_not_listed += 1
                continue
            listed_valid += 1
            spotify_id = row.get("track_id", "").strip()
            row_result = RowResult()
            if spotify_id in created:
                row_result.import_type = RowResult.IMPORT_TYPE_NEW
            elif spotify_id in updated:
                row_result.import_type = RowResult.IMPORT_TYPE_UPDATE
            else:
                row_result.import_type = RowResult.IMPORT_TYPE_SKIP
            row_result.row_values = row
            row_result.diff = [row.get(name, "") for name in PREVIEW_COLUMNS]
            row_result.object_repr = row.get("track_name", "")
            result.append_row_result(row_result)
        result.totals[RowResult.IMPORT_TYPE_NEW] = summary.created
        result.totals[RowResult.IMPORT_TYPE_UPDATE] = summary.updated
        result.totals[RowResult.IMPORT_TYPE_SKIP] = summary.unchanged
        result.totals[RowResult.IMPORT_TYPE_INVALID] = summary.rejected_count

    # ------------------------------------------------------------------ export

    def export(self, queryset: QuerySet[Track] | None = None, **kwargs: Any) -> tablib.Dataset:
        """One row per (track, genre), in the importer's columns (or the ones the user picked)."""
        self.before_export(queryset, **kwargs)
        if queryset is None:
            queryset = self.get_queryset()
        queryset = self.filter_export(queryset, **kwargs)
        columns = self.get_export_headers(selected_fields=kwargs.get("export_fields"))
        dataset = tablib.Dataset(headers=columns)
        for row in track_csv_rows(queryset):
            dataset.append([row[name] for name in columns])
        self.after_export(queryset, dataset, **kwargs)
        return dataset


def track_csv_rows(tracks: QuerySet[Track]) -> Iterator[dict[str, str]]:
    """The CSV rows of ``tracks`` (all columns, as text), in batches of related-object queries."""
    # The admin's queryset may carry its own prefetches; replace them with the ones needed here.
    tracks = tracks.select_related(None).prefetch_related(None).with_related()
    for track in tracks.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        row = {
            "track_id": track.spotify_id,
            "artists": csv_cell_escape(";".join(artist.name for artist in track.artist_list)),
            "album_name": csv_cell_escape(track.album.name if track.album else ""),
            "track_name": csv_cell_escape(track.title),
            **{name: _text(getattr(track, name)) for name in PLAIN_COLUMNS},
        }
        genres = sorted(genre.name for genre in track.genres.all()) or [""]
        for genre in genres:
            yield {**row, "track_genre": csv_cell_escape(genre)}


def _text(value: object) -> str:
    """CSV text the importer reads back to the same value (``repr`` round-trips floats)."""
    if value is None:
        return ""
    return str(value)


def _row_dict(headers: list[str], values: Iterable[Any]) -> dict[str, str]:
    return {
        name: "" if value is None else str(value)
        for name, value in zip(headers, values, strict=False)
    }


def _validation_error(rejected: RejectedRow) -> ValidationError:
    """Every reason of the row, each as an error of the column it names ("danceability: …"),
    or of the row as a whole."""
    errors: dict[str, list[str]] = {}
    for reason in rejected.reasons or [rejected.reason]:
        column, _, message = reason.partition(": ")
        if message and column in CSV_COLUMNS:
            errors.setdefault(column, []).append(message)
        else:
            errors.setdefault(NON_FIELD_ERRORS, []).append(reason)
    return ValidationError(errors)
