"""Live events to a listener's open pages and apps, over the Channels layer (Redis).

Every listener has one group per topic, ``user.<pk>.<topic>`` (``user.7.recommendations``),
and one control group, ``user.<pk>.control``. WebSocket consumers join their listener's group
for their topic and the control group (``musicrec.consumers.ListenerConsumer``); services send
with :func:`broadcast_on_commit`, which is the only way events leave the server:

* after the transaction commits, so a page never hears of a change that was rolled back;
* guarded like ``musicrec.queue``: with Redis down or not answering (connect and read time-outs
  of a second, and :data:`SEND_TIMEOUT` for the whole send) the write that broadcasts still
  succeeds, the failure is logged, and the page catches up on its next load or ``refresh``.

A message is a JSON-ready dict with its own ``type`` (``{"type": "history.changed", "count":
12}``); consumers forward it as it is. Only the listener's own groups ever receive it.

:func:`disconnect_on_commit` closes a listener's open connections (all of them, or those of one
signed-in session) when what authenticated them ends: sign-out, a password change, a
deactivated or deleted account.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# The Channels layer events consumers handle (ListenerConsumer.realtime_event / _disconnect).
EVENT_TYPE = "realtime.event"
DISCONNECT_TYPE = "realtime.disconnect"
CONTROL_TOPIC = "control"

# Longest a broadcast may hold the request that caused it (seconds).
SEND_TIMEOUT = 2.0

_TOPIC = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")


def listener_group(*, user_id: int, topic: str) -> str:
    """The group of one listener's connections for ``topic``."""
    if not _TOPIC.match(topic):
        raise ValueError(f"invalid topic {topic!r}: lower-case letters, digits, '_' and '-'")
    return f"user.{int(user_id)}.{topic}"


def session_tag(session_key: str | None) -> str | None:
    """A stand-in for a session key in layer messages (the key itself is a credential)."""
    if not session_key:
        return None
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def _send(group: str, event: dict[str, Any], what: str) -> bool:
    try:
        layer = get_channel_layer()
        if layer is None:
            logger.warning("no channel layer configured; %s not sent", what)
            return False

        async def send() -> None:
            await asyncio.wait_for(layer.group_send(group, event), timeout=SEND_TIMEOUT)

        async_to_sync(send)()
    except Exception:  # Redis down, time-outs, …: degrade, never fail the write that caused it
        logger.exception("could not broadcast %s to %s", what, group)
        return False
    return True


def broadcast(*, user_id: int, topic: str, message: dict[str, Any]) -> bool:
    """Send ``message`` to the listener's connections for ``topic`` now; return whether the
    channel layer took it (never raises: an outage is logged)."""
    group = listener_group(user_id=user_id, topic=topic)
    return _send(group, {"type": EVENT_TYPE, "message": message}, str(message.get("type")))


def broadcast_on_commit(*, user_id: int, topic: str, message: dict[str, Any]) -> None:
    """Send ``message`` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: broadcast(user_id=user_id, topic=topic, message=message))


def disconnect_on_commit(
    *, user_id: int, session_key: str | None = None, keep_session_key: str | None = None
) -> None:
    """Close the listener's open connections once the transaction commits: those of
    ``session_key`` only (a sign-out), or all but those of ``keep_session_key`` (a password
    change keeps the page it was made on), or all of them."""
    event = {
        "type": DISCONNECT_TYPE,
        "session": session_tag(session_key),
        "keep_session": session_tag(keep_session_key),
    }
    group = listener_group(user_id=user_id, topic=CONTROL_TOPIC)
    transaction.on_commit(lambda: _send(group, event, "disconnect"))
