"""``manage.py train_embeddings [--if-stale]``: train the collaborative models now.

The same service as the nightly task (``recommendations.services.training``): a progress bar
across the phases and a summary (version, data sizes, seconds per phase, holdout figures).
``--if-stale`` trains only when there is no active model or it is older than
``RECOMMENDER["retrain_after_hours"]`` (what ``make run`` calls before serving).
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from recommendations.selectors.training import model_version_active, model_version_is_stale
from recommendations.services.training import PHASES, TrainingOutcome, train_embeddings


class Command(BaseCommand):
    help = "Train the collaborative models (EASE, ALS) on the site's data and swap them in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-stale",
            action="store_true",
            help="only when there is no active model or it is older than "
            "RECOMMENDER['retrain_after_hours']",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if options["if_stale"] and not model_version_is_stale():
            active = model_version_active()
            self.stdout.write(
                f"Model {active.pk if active else '?'} is current "
                f"(data of {active.snapshot_at:%Y-%m-%d %H:%M} UTC): not training "
                f"({time.monotonic() - started:.1f} s)."
                if active and active.snapshot_at
                else "A current model exists: not training."
            )
            return
        with tqdm(
            total=len(PHASES),
            unit="phase",
            disable=options["no_progress"],
            file=self.stderr._out,
        ) as bar:

            def progress(phase: str) -> None:
                bar.set_postfix_str(phase)
                bar.update(1)

            try:
                outcome = train_embeddings(progress=progress)
            except Exception as exc:
                raise CommandError(
                    f"training failed: {exc} (the previous model stays active; the failed "
                    "version is listed in the admin with its error)"
                ) from exc
        self._summary(outcome, time.monotonic() - started)

    def _summary(self, outcome: TrainingOutcome, elapsed: float) -> None:
        if outcome.skipped:
            self.stdout.write(
                self.style.WARNING("skipped: another training is running (it holds the lock).")
            )
            return
        write = self.stdout.write
        write(
            self.style.SUCCESS(
                f"Model {outcome.version_id} is active: {outcome.listeners} listeners, "
                f"{outcome.tracks} tracks, {outcome.cells} cells; "
                f"{outcome.track_vectors} track and {outcome.listener_vectors} listener vectors"
                f"; {outcome.refreshed_listeners} listeners folded in again after the swap"
                f", {outcome.new_tracks} tracks created since the snapshot folded in."
            )
        )
        phases = ", ".join(f"{name} {s:.1f} s" for name, s in outcome.seconds.items())
        write(f"Seconds: {phases}; total {elapsed:.1f} s.")
        fits = outcome.figures.get("fit_seconds", {})
        if fits:
            write("Fit: " + ", ".join(f"{name} {s:.1f} s" for name, s in fits.items()) + ".")
        write("Holdout: " + json.dumps(outcome.figures.get("holdout", {})))
        for warning in outcome.warnings:
            write(self.style.WARNING(warning))
