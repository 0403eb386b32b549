"""Uploads stay in memory, never on the web machine's disk (SPEC §11: only PostgreSQL and Redis
hold state).

Two places would write them to disk:

* Django's ASGI handler reads the whole request body before any view, authentication or upload
  handler runs, into a ``SpooledTemporaryFile`` that moves to a temporary file past
  ``FILE_UPLOAD_MAX_MEMORY_SIZE`` — whatever the size, and for anonymous requests too.
  ``RequestBodyLimit`` (wrapped around Django in ``musicrec/asgi.py``) answers 413 to a body
  larger than ``REQUEST_MAX_BYTES`` (= ``FILE_UPLOAD_MAX_MEMORY_SIZE``) before it is read, so
  every body Django reads stays in memory.
* Django's default upload handlers write a file larger than ``FILE_UPLOAD_MAX_MEMORY_SIZE`` to
  a temporary file. ``BoundedMemoryUploadHandler`` keeps at most
  ``FILE_UPLOAD_MAX_MEMORY_SIZE + 1`` bytes of a file in memory; the uploaded file reports its
  real size, so the view that receives it refuses it as too large (each upload form checks its
  own limit, e.g. ``LISTEN_IMPORT_MAX_BYTES``, ``CATALOG_UPLOAD_MAX_BYTES``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RequestBodyLimit:
    """ASGI middleware: a body over ``settings.REQUEST_MAX_BYTES`` gets a 413, unread.

    With a ``Content-Length`` the answer comes before a byte of the body is read; a chunked body
    (no length) is read into memory up to the limit and replayed to the application.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = settings.REQUEST_MAX_BYTES
        length = _content_length(scope)
        if length is not None:
            if length > limit:
                await _too_large(send, limit)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before we see it
    return None


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "error": f"The request is larger than {limit // (1024 * 1024)} MB.",
            "code": "request_too_large",
            "max_bytes": limit,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


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
