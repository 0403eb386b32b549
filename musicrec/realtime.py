"""Live events to a listener's open pages and apps, over the Channels layer (Redis).

Every listener has one group per topic, ``user.<pk>.<topic>`` (``user.7.recommendations``).
WebSocket consumers join their listener's group (``musicrec.consumers.ListenerConsumer``);
services send with :func:`broadcast_on_commit`, which is the only way events leave the server:

* after the transaction commits, so a page never hears of a change that was rolled back;
* guarded like ``musicrec.queue``: with Redis down the write that broadcasts still succeeds,
  the failure is logged, and the page catches up on its next load or ``refresh``.

A message is a JSON-ready dict with its own ``type`` (``{"type": "history.changed", "count":
12}``); consumers forward it as it is. Only the listener's own groups ever receive it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# The Channels layer event that carries a message to consumers (handled by
# ListenerConsumer.realtime_event).
EVENT_TYPE = "realtime.event"

_TOPIC = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")


def listener_group(*, user_id: int, topic: str) -> str:
    """The group of one listener's connections for ``topic``."""
    if not _TOPIC.match(topic):
        raise ValueError(f"invalid topic {topic!r}: lower-case letters, digits, '_' and '-'")
    return f"user.{int(user_id)}.{topic}"


def broadcast(*, user_id: int, topic: str, message: dict[str, Any]) -> bool:
    """Send ``message`` to the listener's connections for ``topic`` now; return whether the
    channel layer took it (never raises: an outage is logged)."""
    group = listener_group(user_id=user_id, topic=topic)
    try:
        layer = get_channel_layer()
        if layer is None:
            logger.warning("no channel layer configured; %s not sent", message.get("type"))
            return False
        async_to_sync(layer.group_send)(group, {"type": EVENT_TYPE, "message": message})
    except Exception:  # Redis down, timeouts, …: degrade, never fail the write that caused it
        logger.exception("could not broadcast %s to %s", message.get("type"), group)
        return False
    return True


def broadcast_on_commit(*, user_id: int, topic: str, message: dict[str, Any]) -> None:
    """Send ``message`` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: broadcast(user_id=user_id, topic=topic, message=message))
