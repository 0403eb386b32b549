"""Where django-import-export keeps an uploaded file between the preview and the confirm step.

The stock storages write to the local temp folder (lost when the confirm request reaches another
web process or container) or to the cache (evicted under memory pressure, and Redis may be down).
The database is shared by every process and already backed up, so uploads go to ``ImportUpload``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

from django.utils import timezone
from import_export.tmp_storages import BaseStorage

from catalog.models import ImportUpload

# A preview nobody confirmed within a day is abandoned; its upload is purged on the next save.
UPLOAD_LIFETIME = timedelta(days=1)


class UploadMissingError(LookupError):
    """The upload was already imported, purged as stale, or never existed."""


class DatabaseTempStorage(BaseStorage):
    """Uploads in ``ImportUpload`` rows, named by a random hex id.

    The constructor takes ``BaseStorage``'s keyword arguments (``name``, ``read_mode``,
    ``encoding``). The content is kept as the uploaded bytes and decoded on ``read`` unless
    ``read_mode`` is binary, so a text format gets ``str`` as from the stock storages.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.read_mode = self.read_mode or "r"

    def save(self, data: bytes | str) -> None:
        """Store ``data`` under a new random name and purge uploads older than a day."""
        if isinstance(data, str):
            data = data.encode(self.encoding or "utf-8")
        if not self.name:
            self.name = uuid4().hex
        ImportUpload.objects.filter(created_at__lt=timezone.now() - UPLOAD_LIFETIME).delete()
        ImportUpload.objects.update_or_create(name=self.name, defaults={"content": data})

    def read(self) -> bytes | str:
        """Return the content, as text unless the format reads binary; raise UploadMissingError."""
        content = (
            ImportUpload.objects.filter(name=self.name).values_list("content", flat=True).first()
        )
        if content is None:
            raise UploadMissingError(f"No upload named {self.name!r}.")
        data = bytes(content)  # psycopg returns memoryview for bytea
        if "b" in self.read_mode:
            return data
        return data.decode(self.encoding or "utf-8")

    def remove(self) -> None:
        """Delete the upload; removing one that is already gone is not an error."""
        ImportUpload.objects.filter(name=self.name).delete()
