"""Request bodies: uploads are held in memory, never written to the web machine's disk (SPEC
§11), and large bodies are accepted only on the upload paths from signed-in listeners (issue #9,
6)."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import resolve
from rest_framework_simplejwt.tokens import AccessToken

from history.models import ListenImport
from musicrec.uploads import BoundedMemoryUploadHandler, RequestBodyLimit

MB = 2**20


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

    assert answer.status_code == 413
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
    """An inner application that reads the whole body (as Django's handler does: until the end
    or a disconnect) and answers 200."""

    def __init__(self, *, keep: bool = True) -> None:
        self.keep = keep
        self.body: bytes | None = None
        self.size = 0

    async def __call__(self, scope, receive, send) -> None:
        chunks = []
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            self.size += len(chunk)
            if self.keep:
                chunks.append(chunk)
            if not message.get("more_body"):
                break
        self.body = b"".join(chunks)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _statuses(sent: list[dict]) -> list[int]:
    return [message["status"] for message in sent if message["type"] == "http.response.start"]


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


def test_a_chunked_body_is_cut_with_a_413_once_past_the_limit_and_passes_below_it(settings):
    # (The body used to be buffered here up to the limit and replayed; it is now counted as the
    # application reads it, so the application sees the start of a body that is then cut.)
    settings.REQUEST_MAX_BYTES = 1000
    refused_inner, passed_inner = _Recorder(), _Recorder()

    refused, read = _run(RequestBodyLimit(refused_inner), _scope([]), [b"x" * 600] * 5)
    passed, _ = _run(RequestBodyLimit(passed_inner), _scope([]), [b"ab", b"cd", b"e"])

    assert _statuses(refused) == [413]  # the application's own answer was replaced
    assert json.loads(refused[1]["body"])["code"] == "request_too_large"
    assert read == 2  # stopped at the chunk that crossed the limit
    assert refused_inner.body == b"x" * 600  # then a disconnect: never the rest
    assert _statuses(passed) == [200]
    assert passed_inner.body == b"abcde"


def test_the_site_cuts_a_chunked_body_past_the_limit(settings):
    from musicrec.asgi import application

    settings.REQUEST_MAX_BYTES = 1000
    sent, read = _run(application, _scope([], path="/health/"), [b"x" * 600] * 5)

    assert _statuses(sent) == [413]  # Django stopped reading and answered nothing
    assert read == 2


def test_the_site_refuses_an_oversized_body_before_django_reads_it(settings):
    from musicrec.asgi import application

    settings.REQUEST_MAX_BYTES = 1000
    sent, read = _run(application, _scope([(b"content-length", b"2000000")]), [b"x" * 10])

    assert sent[0]["status"] == 413
    assert read == 0


# --------------------------------------------------------------------------- who may send what
UPLOADS = ["/api/v1/imports/", "/history/imports/upload/"]
ADMIN_IMPORT = "/admin/catalog/track/import/"
LENGTH_20_MB = [(b"content-length", str(20 * MB).encode())]


def _body_20_mb() -> list[bytes]:
    return [b"x" * MB] * 20


def _session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"csrftoken=abc; {django_settings.SESSION_COOKIE_NAME}={key}".encode())


def _bearer(user) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {AccessToken.for_user(user)}".encode())


@pytest.mark.parametrize(
    "path", ["/health/", "/accounts/login/", "/api/v1/history/", *UPLOADS, ADMIN_IMPORT]
)
def test_an_anonymous_20_mb_post_is_refused_unread_on_every_path(path):
    from musicrec.asgi import application

    sent, read = _run(application, _scope(LENGTH_20_MB, path=path), _body_20_mb())

    assert _statuses(sent) == [413]
    assert json.loads(sent[1]["body"])["max_bytes"] == 10 * MB
    assert read == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "credential",
    [
        (b"cookie", b"sessionid=forged-or-expired-session-key"),
        (b"authorization", b"Bearer not.a.token"),
        (b"authorization", b"Basic bGlzdGVuZXI6cHc="),
    ],
    ids=["forged-session", "bad-token", "basic"],
)
@pytest.mark.parametrize("path", UPLOADS)
def test_credentials_that_are_not_a_signed_in_listener_get_the_small_limit(path, credential):
    inner = _Recorder(keep=False)

    sent, read = _run(RequestBodyLimit(inner), _scope([*LENGTH_20_MB, credential], path=path), [])

    assert _statuses(sent) == [413]
    assert read == 0


@pytest.mark.django_db
@pytest.mark.parametrize("path", UPLOADS)
@pytest.mark.parametrize("how", [_session_cookie, _bearer], ids=["session", "jwt"])
def test_a_signed_in_listeners_20_mb_upload_passes_the_limit(listener, path, how):
    inner = _Recorder(keep=False)

    sent, _ = _run(
        RequestBodyLimit(inner), _scope([*LENGTH_20_MB, how(listener)], path=path), _body_20_mb()
    )

    assert _statuses(sent) == [200]  # the view decides (format, CSRF, …), not the limit
    assert inner.size == 20 * MB


@pytest.mark.django_db
def test_the_limit_of_an_upload_path_is_for_posts_and_active_accounts(listener):
    headers = [*LENGTH_20_MB, _session_cookie(listener)]
    put = {**_scope(headers, path=UPLOADS[0]), "method": "PUT"}
    assert _statuses(_run(RequestBodyLimit(_Recorder()), put, [])[0]) == [413]

    listener.is_active = False
    listener.save(update_fields=["is_active"])
    sent, _ = _run(RequestBodyLimit(_Recorder()), _scope(headers, path=UPLOADS[0]), [])
    assert _statuses(sent) == [413]


@pytest.mark.django_db
def test_the_admins_catalog_import_takes_large_bodies_from_staff_only(listener, curator):
    def answer(user) -> list[int]:
        inner = _Recorder(keep=False)
        scope = _scope([*LENGTH_20_MB, _session_cookie(user)], path=ADMIN_IMPORT)
        return _statuses(_run(RequestBodyLimit(inner), scope, _body_20_mb())[0])

    assert answer(listener) == [413]
    assert answer(curator) == [200]


@pytest.mark.django_db
def test_a_signed_in_listeners_chunked_upload_is_cut_past_the_upload_limit(listener, settings):
    settings.REQUEST_MAX_BYTES = MB
    settings.UPLOAD_PATHS = {UPLOADS[0]: (3 * MB, "listener")}
    inner = _Recorder(keep=False)

    sent, read = _run(
        RequestBodyLimit(inner),
        _scope([_session_cookie(listener)], path=UPLOADS[0]),
        [b"x" * MB] * 5,
    )

    assert _statuses(sent) == [413]
    assert json.loads(sent[1]["body"])["max_bytes"] == 3 * MB
    assert read == 4


def test_the_limits_fit_in_memory_and_name_the_upload_views():
    from catalog.admin import TrackAdmin
    from history.api.views import ListenImportListView

    assert django_settings.REQUEST_MAX_BYTES == django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert django_settings.REQUEST_MAX_BYTES == 10 * MB
    limits = [limit for limit, _who in django_settings.UPLOAD_PATHS.values()]
    assert max(limits) <= django_settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    assert resolve(UPLOADS[0]).func.view_class is ListenImportListView
    assert resolve(UPLOADS[1]).view_name == "history:import_upload"
    assert resolve(ADMIN_IMPORT).view_name == "admin:catalog_track_import"
    assert TrackAdmin.import_form_class is not None
