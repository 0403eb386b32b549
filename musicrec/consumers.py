"""The base WebSocket consumer: a signed-in listener's live connection to one topic.

Authentication: the session cookie (pages) or ``?token=<JWT access token>`` (mobile apps); an
anonymous or invalid connection is refused before it is accepted (close code 4401). Once
accepted, the consumer joins the listener's group for its ``topic`` (``musicrec.realtime``)
and forwards every message sent there. A feature subclasses it, sets ``topic`` and, if clients
may ask for something, overrides :meth:`ListenerConsumer.on_message`; it calls services for
anything else and keeps no logic of its own.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError

from musicrec.realtime import listener_group

logger = logging.getLogger(__name__)

# Close codes in the application range (4000–4999), mirroring HTTP.
CLOSE_UNAUTHORISED = 4401
# A JWT is a few hundred characters; anything much longer is not one.
TOKEN_MAX_CHARS = 4096


@database_sync_to_async
def _user_from_token(raw: str) -> Any:
    authentication = JWTAuthentication()
    try:
        token = authentication.get_validated_token(raw.encode())
        return authentication.get_user(token)  # also refuses inactive and revoked users
    except (InvalidToken, TokenError, AuthenticationFailed):
        return AnonymousUser()


class ListenerConsumer(AsyncJsonWebsocketConsumer):
    """Subclasses set ``topic``."""

    topic: str = ""

    async def connect(self) -> None:
        self.group: str | None = None
        user = await self._authenticate()
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            await self.close(code=CLOSE_UNAUTHORISED)
            return
        self.user = user
        self.group = listener_group(user_id=user.pk, topic=self.topic)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.on_connected()

    async def _authenticate(self) -> Any:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        tokens = query.get("token")
        if tokens:  # an explicit token wins over a session cookie
            raw = tokens[0]
            if not raw or len(raw) > TOKEN_MAX_CHARS:
                return AnonymousUser()
            return await _user_from_token(raw)
        return self.scope.get("user") or AnonymousUser()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def realtime_event(self, event: dict[str, Any]) -> None:
        """A message broadcast to this listener's group: forward it as it is."""
        await self.send_json(event["message"])

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_json({"type": "error", "error": "Send a JSON object with a type."})
            return
        await self.on_message(content)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data)
        except ValueError:  # not JSON (json.JSONDecodeError is a ValueError)
            await self.send_json({"type": "error", "error": "Messages must be JSON."})

    # Hooks for subclasses ------------------------------------------------------------------

    async def on_connected(self) -> None:
        """Called once the connection is accepted (e.g. to send the current state)."""

    async def on_message(self, content: dict[str, Any]) -> None:
        """A message from the client; by default none is understood."""
        await self.send_json(
            {"type": "error", "error": f"Unknown message type {content['type']!r}."}
        )
