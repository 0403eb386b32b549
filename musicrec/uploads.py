"""Uploads stay in memory, never on the web machine's disk (SPEC §11: only PostgreSQL and Redis
hold state).

Django's default handlers write a file larger than ``FILE_UPLOAD_MAX_MEMORY_SIZE`` to a
temporary file. This handler keeps the first ``FILE_UPLOAD_MAX_MEMORY_SIZE + 1`` bytes of each
file in memory and reads the rest of an oversized file without keeping it; the uploaded file
reports its real size, so the view that receives it refuses it as too large (each upload form
checks its own limit, e.g. ``LISTEN_IMPORT_MAX_BYTES``, ``CATALOG_UPLOAD_MAX_BYTES``).
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class BoundedMemoryUploadHandler(FileUploadHandler):
    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.keep = settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1
        self.buffer = io.BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        room = self.keep - self.buffer.tell()
        if room > 0:
            self.buffer.write(raw_data[:room])
        # None: no later handler gets the chunk

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
