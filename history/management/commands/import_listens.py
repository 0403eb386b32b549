"""``manage.py import_listens USER FILE``: import a listening export from the shell.

Does what an upload does (size and format checks, the upload kept in PostgreSQL, the same
processing), but processes at once in this process instead of the Celery worker, with a
progress bar and a summary. USER is a username, an e-mail address or an id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from tqdm import tqdm

from accounts.models import User
from history.listen_formats.parsers import FORMAT_LABELS
from history.services.imports import listen_import_create, listen_import_process
from musicrec.errors import ApplicationError


class Command(BaseCommand):
    help = "Import a listener's Last.fm / Spotify / ListenBrainz export as play interactions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="username, e-mail or id of the listener")
        parser.add_argument("file", type=Path, help="the export file (CSV, JSON, JSONL or ZIP)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        user = self._user(options["user"])
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            with path.open("rb") as handle:
                listen_import = listen_import_create(
                    user=user, file=File(handle, name=path.name), enqueue=False
                )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        label = FORMAT_LABELS.get(listen_import.format, listen_import.format)
        self.stdout.write(f"{path.name}: {label}, import #{listen_import.pk}")

        with tqdm(total=100, unit="%", disable=options["no_progress"], desc="importing") as bar:

            def progress(value: int) -> None:
                bar.update(value - bar.n)

            import_id = listen_import.pk
            listen_import = listen_import_process(import_id=import_id, on_progress=progress)
        if listen_import is None:
            raise CommandError(f"Import #{import_id} was undone while it was being processed.")
        if listen_import.status != "done":
            raise CommandError(f"Import #{import_id} failed: {listen_import.error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{listen_import.listens} listens: {listen_import.matched} matched, "
                f"{listen_import.unmatched} unmatched, {listen_import.skipped} skipped; "
                f"{listen_import.created} plays added, {listen_import.duplicates} already there."
            )
        )
        for item in listen_import.top_unmatched[:10]:
            self.stdout.write(f"  not found: {item['artist']} – {item['title']} ({item['count']}×)")
        if listen_import.offered_track_ids:
            self.stdout.write(
                f"{len(listen_import.offered_track_ids)} most played tracks are offered for the "
                f"history: see /history/imports/ or GET /api/v1/imports/{listen_import.pk}/."
            )

    def _user(self, key: str) -> User:
        query = Q(username=key) | Q(email__iexact=key)
        if key.isdigit():
            query |= Q(pk=int(key))
        users = list(User.objects.filter(query)[:2])
        if len(users) != 1:
            raise CommandError(f"No single listener matches {key!r}.")
        return users[0]
