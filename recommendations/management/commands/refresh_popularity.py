"""``manage.py refresh_popularity``: refresh the popularity views now (what the beat entry
``recommendations.refresh_popularity`` does every ``RECOMMENDER["popularity_refresh_minutes"]``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from recommendations.services.popularity import POPULARITY_VIEWS, refresh_popularity


class Command(BaseCommand):
    help = (
        "Refresh the popular_tracks and demographic_popularity materialized views "
        "(concurrently: readers are not blocked). Skipped when a refresh is already running."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        with tqdm(
            total=len(POPULARITY_VIEWS),
            unit="view",
            disable=options["no_progress"],
            file=self.stderr._out,
        ) as bar:
            summary = refresh_popularity(on_view=lambda _view: bar.update())
        if summary.skipped:
            self.stdout.write(
                self.style.WARNING("Skipped: another refresh of the popularity views is running.")
            )
            return
        rows = ", ".join(
            f"{view} {count:,} rows ({summary.written[view]:,} written)"
            for view, count in summary.rows.items()
        )
        self.stdout.write(
            f"Popularity views refreshed in {summary.seconds:.1f} s: {rows} "
            f"(generation {summary.generation})."
        )
