"""``/ws/recommendations/``: a listener's live list (``recommendations.services.live``).

Authentication, the listener's groups and forwarding are the base consumer's
(``musicrec.consumers.ListenerConsumer``): an anonymous connection is closed with 4401. This one
keeps the listener's presence (so updates are computed only for listeners who can hear them)
and answers the client:

* ``{"type": "ping"}`` → ``{"type": "pong"}``;
* ``{"type": "refresh", "n"?, "mood"?, "activity"?, "discovery"?}`` → a
  ``recommendations.update`` with ``reason`` ``"refresh"`` to this connection, computed in the
  worker; rate-limited per listener (``{"type": "error", "code": "rate_limited",
  "retry_after": s}``), a bad parameter is ``{"type": "error", "code": "invalid_parameter",
  "parameter": name}``;
* anything else → ``{"type": "error", "code": "unknown_type"}``; a frame that is not a JSON
  object with a ``type`` → ``{"type": "error", "code": "malformed"}``. Never a disconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from musicrec.consumers import ListenerConsumer
from musicrec.errors import ApplicationError
from recommendations.services.live import (
    TOPIC,
    live_presence_add,
    live_presence_remove,
    live_refresh_request,
    live_settings,
)

logger = logging.getLogger(__name__)


class RecommendationsConsumer(ListenerConsumer):
    topic = TOPIC

    async def on_connected(self) -> None:
        await self._present()
        self._heartbeat = asyncio.ensure_future(self._beat())

    async def disconnect(self, code: int) -> None:
        heartbeat = getattr(self, "_heartbeat", None)
        if heartbeat is not None:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        if hasattr(self, "user"):
            await sync_to_async(live_presence_remove, thread_sensitive=False)(
                user_id=self.user.pk, channel_name=self.channel_name
            )
        await super().disconnect(code)

    async def _present(self) -> None:
        await sync_to_async(live_presence_add, thread_sensitive=False)(
            user_id=self.user.pk, channel_name=self.channel_name
        )

    async def _beat(self) -> None:
        interval = float(live_settings()["heartbeat_s"])
        while True:
            await asyncio.sleep(interval)
            await self._present()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        content: Any = None
        if text_data is not None:
            with contextlib.suppress(ValueError):
                content = json.loads(text_data)
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self._error(
                'Send a JSON object with a "type" ("refresh" or "ping").', code="malformed"
            )
            return
        await self.receive_json(content)

    async def on_message(self, content: dict[str, Any]) -> None:
        kind = content["type"]
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "refresh":
            await self._refresh(content)
        else:
            raise ApplicationError(
                f'Unknown message type {kind[:40]!r}: send "refresh" or "ping".',
                code="unknown_type",
            )

    async def _refresh(self, content: dict[str, Any]) -> None:
        try:
            # through the database thread: in eager mode (tests) the list is computed here
            outcome = await database_sync_to_async(live_refresh_request)(
                user_id=self.user.pk, channel_name=self.channel_name, content=content
            )
        except ApplicationError as error:
            await self.send_json(
                {"type": "error", "error": error.message, "code": error.code, **error.extra}
            )
            return
        except Exception:  # never a disconnect for what a client sent: answered and logged
            logger.exception("refresh failed for listener %s", self.user.pk)
            await self.send_json(
                {"type": "error", "error": "The refresh failed; try again.", "code": "failed"}
            )
            return
        if not outcome.accepted:
            await self.send_json(
                {
                    "type": "error",
                    "error": f"Too many refreshes: try again in {outcome.retry_after} s.",
                    "code": "rate_limited",
                    "retry_after": outcome.retry_after,
                }
            )
