"""Request bodies: how large, from whom, and always in memory, never on the web machine's disk
(SPEC §11: only PostgreSQL and Redis hold state).

Django's ASGI handler reads the whole request body before any middleware, CSRF check,
authentication or view runs, into a ``SpooledTemporaryFile`` (in memory up to
``FILE_UPLOAD_MAX_MEMORY_SIZE``, then a temporary file) — whatever the size and whoever sends it.
``RequestBodyLimit`` (wrapped around Django in ``musicrec/asgi.py``) decides first, from the
path and the headers alone, how large a body may be:

* on the upload paths (``settings.UPLOAD_PATHS``: the listening-data imports of the API and the
  page, the admin's catalog import) their own limit, for a signed-in listener only — a session
  cookie of a live session or a valid JWT access token, of an active account (staff for the
  admin's path). This costs one indexed query, on these paths and only when such a credential
  is sent; the view still authenticates the request as usual (CSRF, session hash, permissions);
* everywhere else, and for anyone else, ``REQUEST_MAX_BYTES`` (``DATA_UPLOAD_MAX_MEMORY_SIZE``,
  10 MB): an anonymous caller cannot make a process hold more than that per request.

A ``Content-Length`` over the limit is answered 413 before a byte of the body is read; a body
without one (chunked) is counted as Django reads it and cut with a 413 once past the limit
(nothing is buffered here). Every limit is at most ``FILE_UPLOAD_MAX_MEMORY_SIZE``, so every body
Django reads stays in memory.

Django's default upload handlers would also write a file larger than
``FILE_UPLOAD_MAX_MEMORY_SIZE`` to a temporary file. ``BoundedMemoryUploadHandler`` keeps at most
``FILE_UPLOAD_MAX_MEMORY_SIZE + 1`` bytes of a file in memory; the uploaded file reports its real
size, so the view that receives it refuses it as too large (each upload form checks its own limit,
e.g. ``LISTEN_IMPORT_MAX_BYTES``, ``CATALOG_UPLOAD_MAX_BYTES``).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from importlib import import_module
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.db import connection
from django.http.cookie import parse_cookie

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Who may send an upload path's larger body (settings.UPLOAD_PATHS).
LISTENER = "listener"
STAFF = "staff"


class RequestBodyLimit:
    """ASGI middleware: a body over its limit (see the module docstring) gets a 413 — unread
    when its length is declared, cut as soon as it passes the limit when it is not."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = await body_limit(scope)
        length = _content_length(scope)
        if length is not None and length > limit:
            await _too_large(send, limit)
            return
        read = 0
        cut = False
        started = False

        async def counted_receive() -> Message:
            nonlocal read, cut
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    # Django's handler stops reading at a disconnect and answers nothing
                    cut = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if cut:  # the application answered a body it only half read: the 413 replaces it
                return
            started = True
            await send(message)

        await self.app(scope, counted_receive, guarded_send)
        if cut and not started:
            await _too_large(send, limit)


async def body_limit(scope: Scope) -> int:
    """The largest body this request may send: its upload path's limit for a signed-in
    listener (staff where required), else ``REQUEST_MAX_BYTES``."""
    default: int = settings.REQUEST_MAX_BYTES
    if scope.get("method") != "POST":
        return default
    path = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    upload = settings.UPLOAD_PATHS.get(path)
    if upload is None:
        return default
    upload_limit, who = upload
    session_key, token = _credentials(scope)
    if not session_key and not token:
        return default
    signed_in = await sync_to_async(_signed_in, thread_sensitive=True)(
        session_key=session_key, token=token, staff=who == STAFF
    )
    return max(default, upload_limit) if signed_in else default


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


def _credentials(scope: Scope) -> tuple[str, str]:
    """The session key of the session cookie and the bearer token, each "" when absent."""
    session_key = parse_cookie(_header(scope, b"cookie")).get(settings.SESSION_COOKIE_NAME, "")
    scheme, _, token = _header(scope, b"authorization").partition(" ")
    from rest_framework_simplejwt.settings import api_settings as jwt_settings

    if scheme not in jwt_settings.AUTH_HEADER_TYPES:
        token = ""
    return session_key.strip(), token.strip()


def _signed_in(*, session_key: str, token: str, staff: bool) -> bool:
    """Whether the credentials are those of an active account (a staff member if ``staff``):
    a JWT access token that verifies, else a live session with a user in it."""
    try:
        user_id: Any = None
        if token:
            from rest_framework_simplejwt.exceptions import TokenError
            from rest_framework_simplejwt.settings import api_settings as jwt_settings
            from rest_framework_simplejwt.tokens import AccessToken

            try:
                user_id = AccessToken(token).get(jwt_settings.USER_ID_CLAIM)
            except TokenError:
                user_id = None
        if user_id is None and session_key:
            store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
            user_id = store.get(SESSION_KEY)
        if user_id is None:
            return False
        users = get_user_model()._default_manager.filter(pk=user_id, is_active=True)
        if staff:
            users = users.filter(is_staff=True)
        return bool(users.exists())
    except Exception:  # a malformed id, the database down: the small limit, never a 500
        logger.warning("could not check the credentials of an upload", exc_info=True)
        return False
    finally:
        # Runs outside Django's request cycle: hand the connection back (to the pool) now.
        # Inside a transaction (a test's) the connection is the caller's and stays.
        if not connection.in_atomic_block:
            connection.close()


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return int(value) if value else None
    except ValueError:
        return None  # the server refuses a malformed length before we see it


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "error": f"The request is larger than {_size(limit)}.",
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


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"


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
