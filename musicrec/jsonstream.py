"""JSON written piece by piece, so that a large document never sits in memory whole.

``iter_json(value)`` yields the text of ``value`` in chunks. Mappings and lists are written
member by member; iterators and generators are written as JSON arrays as they are consumed, so
a listener's export can hold a log of hundreds of thousands of events while the process only
ever holds one batch of them. Everything else is encoded by ``DjangoJSONEncoder`` (dates, UUIDs,
decimals).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, StreamingHttpResponse
from django.utils.http import content_disposition_header

# Items are gathered into chunks of about this many characters before they are yielded: one
# yield per event would make the server's writes tiny and slow.
CHUNK_CHARS = 64 * 1024

_encoder = DjangoJSONEncoder(ensure_ascii=False)


def _pieces(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        yield "{"
        for number, (key, item) in enumerate(value.items()):
            yield ("," if number else "") + _encoder.encode(str(key)) + ":"
            yield from _pieces(item)
        yield "}"
    elif isinstance(value, (list, tuple)) or (
        isinstance(value, Iterable) and not isinstance(value, (str, bytes, bytearray))
    ):
        yield "["
        for number, item in enumerate(value):
            if number:
                yield ","
            yield from _pieces(item)
        yield "]"
    else:
        yield _encoder.encode(value)


def iter_json(value: Any, *, chunk_chars: int = CHUNK_CHARS) -> Iterator[str]:
    """The JSON text of ``value`` in chunks of about ``chunk_chars`` characters."""
    buffer: list[str] = []
    size = 0
    for piece in _pieces(value):
        buffer.append(piece)
        size += len(piece)
        if size >= chunk_chars:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


def json_download(request: HttpRequest, value: Any, *, filename: str) -> StreamingHttpResponse:
    """A JSON attachment streamed from ``value`` (see :func:`iter_json`).

    Under ASGI the chunks are produced one at a time in the request's thread (Django would
    otherwise collect a synchronous iterator whole before sending it); under WSGI and in tests
    the plain iterator streams as it is.
    """
    chunks = iter_json(value)
    content: Iterator[str] | AsyncIterator[str] = (
        _async_chunks(chunks) if isinstance(request, ASGIRequest) else chunks
    )
    response = StreamingHttpResponse(content, content_type="application/json")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response


async def _async_chunks(chunks: Iterator[str]) -> AsyncIterator[str]:
    # thread_sensitive: the chunks read the database in the request's thread, with its connection
    next_chunk = sync_to_async(next, thread_sensitive=True)
    try:
        while (chunk := await next_chunk(chunks, None)) is not None:
            yield chunk
    finally:  # also when the client goes away mid-download: end the reading there, in its thread
        await sync_to_async(chunks.close, thread_sensitive=True)()
