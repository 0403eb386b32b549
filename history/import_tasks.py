"""Background processing of listening-data imports. Thin: load by id, call the service."""

from __future__ import annotations

from celery import shared_task

from history.imports.services import listen_import_process


@shared_task(name="history.process_listen_import")
def process_listen_import(import_id: int) -> str:
    """Process one uploaded export (parse, match, store its plays).

    Cost: about one second per 20–50k listens, mostly parsing; the upload size limit bounds it.
    Running it twice is safe: the service claims the import with a conditional UPDATE and
    leaves an import that is processing or done alone. Not retried automatically: a failure is
    recorded on the import (status ``failed`` with a message) for the listener to see.
    """
    return listen_import_process(import_id=import_id).status
