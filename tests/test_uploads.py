"""Uploads are held in memory, never written to the web machine's disk (SPEC §11)."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.test import RequestFactory

from history.models import ListenImport
from musicrec.uploads import BoundedMemoryUploadHandler, RequestBodyLimit


def _receive(handler: BoundedMemoryUploadHandler, chunks: list[bytes]) -> InMemoryUploadedFile:
    handler.new_file("file", "export.csv", "text/csv", sum(map(len, chunks)), "utf-8")
    start = 0
    for chunk in chunks:
        assert handler.receive_data_chunk(chunk, start) is None
        start += len(chunk)
    return handler.file_complete(start)


def test_a_file_within_the_limit_is_kept_whole_in_memory(settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10
    handler = BoundedMemoryUploadHandler(RequestFactory().post("/"))

    uploaded = _receive(handler, [b"abc", b"defg", b"hij"])

    assert isinstance(uploaded, InMemoryUploadedFile)
    assert (uploaded.name, uploaded.size, uploaded.read()) == ("export.csv", 10, b"abcdefghij")


def test_an_oversized_file_keeps_only_limit_plus_one_bytes_and_its_real_size(settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10
    handler = BoundedMemoryUploadHandler(RequestFactory().post("/"))

    uploaded = _receive(handler, [b"x" * 8, b"y" * 8, b"z" * 1000])

    assert uploaded.size == 1016  # what the client sent: the form refuses it by this
    assert uploaded.read() == b"x" * 8 + b"y" * 3  # no more than limit + 1 held


@pytest.mark.django_db
def test_an_upload_over_the_limit_is_refused_without_touching_the_disk(api_client, user, settings):
    settings.LISTEN_IMPORT_MAX_BYTES = 1000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.FILE_UPLOAD_TEMP_DIR = "/nonexistent/uploads"  # a temporary file would fail loudly
    api_client.force_authenticate(user)
    body = b"uts,artist,track\n" + b"1700000000,Someone,Something\n" * 200  # ~6 kB

    answer = api_client.post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("big.csv", body, content_type="text/csv")},
        format="multipart",
    )

    assert answer.status_code == 400
    assert answer.json()["code"] == "file_too_large"
    assert not ListenImport.objects.exists()


# --------------------------------------------------------------------------- request body limit
def _scope(headers: list[tuple[bytes, bytes]], path: str = "/api/v1/imports/") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


def _run(app, scope: dict, chunks: list[bytes]) -> tuple[list[dict], int]:
    """Drive an ASGI app with a body in ``chunks``; the answer's messages and how many
    messages of the body it read."""
    pending = [
        {"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1}
        for n, chunk in enumerate(chunks)
    ]
    read = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal read
        read += 1
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    async_to_sync(app)(scope, receive, send)
    return sent, read


class _Recorder:
    """An inner application that reads the whole body and answers 200."""

    def __init__(self) -> None:
        self.body: bytes | None = None

    async def __call__(self, scope, receive, send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.body = body
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def test_a_declared_length_over_the_limit_is_refused_unread(settings):
    settings.REQUEST_MAX_BYTES = 1000
    inner = _Recorder()

    sent, read = _run(
        RequestBodyLimit(inner), _scope([(b"content-length", b"5000")]), [b"x" * 5000]
    )

    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["code"] == "request_too_large"
    assert read == 0  # not a byte of the body was read
    assert inner.body is None


def test_a_chunked_body_is_refused_once_past_the_limit_and_replayed_below_it(settings):
    settings.REQUEST_MAX_BYTES = 1000
    refused_inner, passed_inner = _Recorder(), _Recorder()

    refused, read = _run(RequestBodyLimit(refused_inner), _scope([]), [b"x" * 600] * 5)
    passed, _ = _run(RequestBodyLimit(passed_inner), _scope([]), [b"ab", b"cd", b"e"])

    assert refused[0]["status"] == 413
    assert read == 2  # stopped at the chunk that crossed the limit
    assert refused_inner.body is None
    assert passed[0]["status"] == 200
    assert passed_inner.body == b"abcde"


def test_the_site_refuses_an_oversized_body_before_django_reads_it(settings):
    from musicrec.asgi import application

    settings.REQUEST_MAX_BYTES = 1000
    sent, read = _run(application, _scope([(b"content-length", b"2000000")]), [b"x" * 10])

    assert sent[0]["status"] == 413
    assert read == 0
