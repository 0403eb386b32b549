"""Uploads are held in memory, never written to the web machine's disk (SPEC §11)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.test import RequestFactory

from history.models import ListenImport
from musicrec.uploads import BoundedMemoryUploadHandler


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
