"""``manage.py import_catalog FILE.csv[.gz]``: stream a Spotify-style tracks CSV into the
catalog."""

from __future__ import annotations

import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.services.imports import CatalogCsv, ImportSummary, catalog_import_stream
from musicrec.errors import ApplicationError

SHOW_REJECTS = 20


class Command(BaseCommand):
    help = (
        "Import a Spotify-style tracks CSV (or .csv.gz). Re-importing updates tracks by their "
        "Spotify id and never duplicates them; invalid rows are rejected one by one with reasons."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="CSV file, optionally gzip-compressed")
        parser.add_argument(
            "--rejects",
            type=Path,
            metavar="FILE",
            help="write every rejected row (row number, track id, reason) to this CSV file",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and count, then roll everything back"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(
        self, *args, path: Path, rejects: Path | None, dry_run: bool, no_progress: bool, **options
    ) -> None:
        source = CatalogCsv(path)
        try:
            with (
                source as stream,
                tqdm(
                    total=source.size(),
                    unit="B",
                    unit_scale=True,
                    desc=f"Importing {path.name}",
                    disable=no_progress or None,
                    file=self.stderr._out,
                ) as bar,
            ):

                def on_progress(rows: int) -> None:
                    bar.n = source.position()
                    bar.set_postfix(rows=rows, refresh=False)
                    bar.refresh()

                summary = catalog_import_stream(
                    stream=stream, dry_run=dry_run, on_progress=on_progress
                )
                bar.n = bar.total
                bar.refresh()
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        except KeyboardInterrupt:
            raise CommandError(
                "Interrupted: the import was rolled back, nothing changed."
            ) from None
        self._report(summary, rejects)

    def _report(self, summary: ImportSummary, rejects: Path | None) -> None:
        out = self.stdout
        title = "Dry run (rolled back)" if summary.dry_run else "Import finished"
        out.write(self.style.SUCCESS(f"{title} in {summary.seconds:.1f}s"))
        out.write(f"  rows read:        {summary.rows_read}")
        out.write(f"  tracks in file:   {summary.tracks_in_file}")
        out.write(f"  created:          {summary.created}")
        out.write(f"  updated:          {summary.updated}")
        out.write(f"  unchanged:        {summary.unchanged}")
        out.write(f"  rejected rows:    {summary.rejected_count}")
        out.write(
            f"  new genres / artists / albums: {summary.genres_created} / "
            f"{summary.artists_created} / {summary.albums_created}"
        )
        if summary.rejected:
            out.write(self.style.WARNING("Rejected rows (row numbers count the header as row 1):"))
            for item in summary.rejected[:SHOW_REJECTS]:
                out.write(f"  row {item.row} ({item.track_id or 'no id'}): {item.reason}")
            if summary.rejected_count > SHOW_REJECTS and not rejects:
                out.write(
                    f"  … and {summary.rejected_count - SHOW_REJECTS} more "
                    "(use --rejects FILE to write them all)"
                )
        if rejects:
            with rejects.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["row", "track_id", "reason"])
                for item in summary.rejected:
                    writer.writerow([item.row, item.track_id, item.reason])
            out.write(f"All {summary.rejected_count} rejected rows written to {rejects}")
