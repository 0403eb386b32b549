"""The base WebSocket consumer: a signed-in listener's live connection to one topic.

Authentication: the session cookie (pages) or ``?token=<JWT access token>`` (mobile apps; a
token given, even a bad one, wins over a cookie). An anonymous or invalid connection is accepted
and closed at once with code 4401, so a client can tell "sign in again" from other failures.
Once open, the consumer joins the listener's group for its ``topic`` and the listener's control
group (``musicrec.realtime``), and forwards every message sent to the first. It closes with 4401
when what authenticated it ends: sign-out of its session, a password change, a deactivated or
deleted account (``realtime.disconnect_on_commit``), or its token's expiry.

A feature subclasses it, sets ``topic`` and, if clients may ask for something, overrides
:meth:`ListenerConsumer.on_message`, calling services for anything else; an
``ApplicationError`` there is answered as ``{"type": "error", "error": …, "code": …}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError

from musicrec.errors import ApplicationError
from musicrec.realtime import CONTROL_TOPIC, listener_group, session_tag

logger = logging.getLogger(__name__)

# Close codes in the application range (4000–4999), mirroring HTTP.
CLOSE_UNAUTHORISED = 4401
# A JWT is a few hundred characters; anything much longer is not one.
TOKEN_MAX_CHARS = 4096


class _NotJson(ValueError):
    """A client frame that is not JSON."""


@database_sync_to_async
def _user_from_token(raw: str) -> tuple[Any, float | None]:
    """The token's user and its expiry (a Unix time), or an anonymous user."""
    authentication = JWTAuthentication()
    try:
        token = authentication.get_validated_token(raw.encode())
        user = authentication.get_user(token)  # also refuses inactive and revoked users
    except (InvalidToken, TokenError, AuthenticationFailed):
        return AnonymousUser(), None
    return user, float(token["exp"])


class ListenerConsumer(AsyncJsonWebsocketConsumer):
    """Subclasses set ``topic``."""

    topic: str = ""

    async def connect(self) -> None:
        self.groups_joined: list[str] = []
        self.session: str | None = None
        self._expiry: asyncio.TimerHandle | None = None
        await self.accept()
        user, expires_at = await self._authenticate()
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            await self.close(code=CLOSE_UNAUTHORISED)
            return
        self.user = user
        for topic in (self.topic, CONTROL_TOPIC):
            group = listener_group(user_id=user.pk, topic=topic)
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        if expires_at is not None:
            delay = max(0.0, expires_at - time.time())
            self._expiry = asyncio.get_running_loop().call_later(
                delay, lambda: asyncio.ensure_future(self.close(code=CLOSE_UNAUTHORISED))
            )
        await self.on_connected()

    async def _authenticate(self) -> tuple[Any, float | None]:
        query = parse_qs(
            self.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
        )
        tokens = query.get("token")
        if tokens is not None:  # a token given wins over a session cookie, even a bad one
            raw = tokens[0]
            if not raw or len(raw) > TOKEN_MAX_CHARS:
                return AnonymousUser(), None
            return await _user_from_token(raw)
        session = self.scope.get("session")
        self.session = session_tag(getattr(session, "session_key", None))
        return self.scope.get("user") or AnonymousUser(), None

    async def disconnect(self, code: int) -> None:
        if getattr(self, "_expiry", None) is not None:
            self._expiry.cancel()
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def realtime_event(self, event: dict[str, Any]) -> None:
        """A message broadcast to this listener's topic group: forward it as it is."""
        await self.send_json(event["message"])

    async def realtime_disconnect(self, event: dict[str, Any]) -> None:
        """What authenticated this connection ended (see ``realtime.disconnect_on_commit``)."""
        only, keep = event.get("session"), event.get("keep_session")
        if only is not None and only != self.session:
            return
        if keep is not None and keep == self.session:
            return
        await self.close(code=CLOSE_UNAUTHORISED)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return json.loads(text_data)
        except ValueError:
            raise _NotJson from None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self._error("Messages must be JSON text.", code="invalid_message")
            return
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data)
        except _NotJson:
            await self._error("Messages must be JSON.", code="invalid_message")

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self._error("Send a JSON object with a type.", code="invalid_message")
            return
        try:
            await self.on_message(content)
        except ApplicationError as error:
            await self._error(error.message, code=error.code)

    async def _error(self, message: str, *, code: str) -> None:
        await self.send_json({"type": "error", "error": message, "code": code})

    # Hooks for subclasses ------------------------------------------------------------------

    async def on_connected(self) -> None:
        """Called once the connection is open and authenticated (e.g. to send the state)."""

    async def on_message(self, content: dict[str, Any]) -> None:
        """A message from the client; by default none is understood."""
        raise ApplicationError(
            f"Unknown message type {content['type']!r}.", code="unknown_message_type"
        )


class OriginOrTokenValidator:
    """ASGI middleware in front of the WebSocket routes.

    Browsers send an ``Origin`` with every WebSocket handshake, and a page of another site must
    not open a connection with the listener's cookie: a handshake with an ``Origin`` must come
    from an allowed host (Channels' ``AllowedHostsOriginValidator``). Native apps send no
    ``Origin`` and authenticate with ``?token=``: such a handshake is let through with its
    cookies removed, so only a token can sign it in.
    """

    def __init__(self, application: Any) -> None:
        self.application = application
        self.validated = AllowedHostsOriginValidator(application)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        headers = scope.get("headers", [])
        if any(name == b"origin" for name, _ in headers):
            return await self.validated(scope, receive, send)
        cookieless = [(name, value) for name, value in headers if name != b"cookie"]
        return await self.application(dict(scope, headers=cookieless), receive, send)
