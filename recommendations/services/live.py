"""Live updates of a listener's list over ``/ws/recommendations/`` (issue #12).

A listener's open pages and apps (``recommendations.consumers.RecommendationsConsumer``) hear
``{"type": "recommendations.update", "reason", "impression_id", "parameters", "results"}``
when their list should change, and ``{"type": "history.changed", "count"}`` when their history
did. What pushes an update (:func:`live_taste_changed`, a ``taste_changed`` hook, and the end
of a training):

* a history change or a finished listening import (``history``, ``import``), which also sends
  ``history.changed`` at once;
* a context change (``context``) and a blocked or unblocked artist (``blocks``);
* a burst of skips: ``RECOMMENDER["live"]["skip_burst"]`` skips within ``skip_window_s``
  seconds (two within 60), counted in Redis against :data:`clock` (tests set it);
* a finished training: every connected listener (:func:`live_fan_out`, in batches);
* the client's own ``{"type": "refresh"}``, rate-limited per listener, answered to the asking
  connection only (its parameters are that page's, not the listener's other pages').

Likes, dislikes and plays do not push: the page that sent one updates itself (a disliked track
leaves the list at once), the next request reflects it, and a list pushed on every click would
reshuffle what the listener is looking at while they use it. Nor do preferences, demographics
or the default discovery, which the issue leaves out: they are changed on the profile page,
and the home page loads fresh afterwards.

The list is computed in the worker (task ``recommendations.push_update``) through the one path,
``recommendation_list_serve(surface="live")``, and only for a listener who has a connection
open (presence, below): a list nobody sees is neither computed nor recorded as an impression.

Presence, in Redis (the cache's server): ``…:live:channels:<user>``, a sorted set of the
listener's open connections scored by when each stops counting, and ``…:live:presence``, the
listeners scored by the latest of those. A connection adds itself when it opens and every
``heartbeat_s`` after, and removes itself when it closes; one whose process died lapses after
three heartbeats.

Redis down or not answering: every step here is logged and skipped (the write that triggered it
has happened and stays a success); pages catch up on their next load.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from accounts.models import User
from accounts.validators import Activity, Mood
from history.models import HistoryEntry
from musicrec import realtime
from musicrec.errors import ApplicationError
from musicrec.queue import enqueue
from musicrec.taste import TasteChange
from recommendations.models import ImpressionSurface
from recommendations.services.lists import recommendation_list_serve

logger = logging.getLogger(__name__)

#: The WebSocket topic: groups ``user.<pk>.recommendations``.
TOPIC = "recommendations"

#: What a live update's ``reason`` says besides a ``TasteChange``.
REASON_TRAINING = "training"
REASON_REFRESH = "refresh"

#: Changes that push a new list as they happen (a skip pushes only as part of a burst).
PUSH_CHANGES = frozenset(
    {TasteChange.HISTORY, TasteChange.IMPORT, TasteChange.CONTEXT, TasteChange.BLOCKS}
)
HISTORY_CHANGES = frozenset({TasteChange.HISTORY, TasteChange.IMPORT})

#: The clock of the skip window and of presence (Unix seconds). Tests replace it to place skips
#: seconds apart without waiting.
clock: Callable[[], float] = time.time

#: How many heartbeats a connection's presence outlives its last one.
PRESENCE_HEARTBEATS = 3

N_MAX = 100


def live_settings() -> Mapping[str, Any]:
    return settings.RECOMMENDER["live"]  # type: ignore[no-any-return]


def _redis() -> Any:
    return get_redis_connection("default")


def _key(*parts: object) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    return ":".join([prefix, "live", *map(str, parts)])


# --------------------------------------------------------------------------- presence


# KEYS: the connection set, the presence set. ARGV: channel, now, user. Drops the channel and
# the lapsed ones; the listener leaves the presence set when no connection is left. Returns how
# many connections remain.
_LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local left = redis.call('ZCARD', KEYS[1])
if left == 0 then
  redis.call('ZREM', KEYS[2], ARGV[3])
end
return left
"""


def _presence_ttl() -> float:
    return float(live_settings()["heartbeat_s"]) * PRESENCE_HEARTBEATS


def live_presence_add(*, user_id: int, channel_name: str) -> bool:
    """Count one of the listener's connections as open (on connect and every heartbeat);
    whether Redis took it."""
    ttl = _presence_ttl()
    until = clock() + ttl
    channels = _key("channels", int(user_id))
    try:
        pipe = _redis().pipeline(transaction=True)
        pipe.zadd(channels, {channel_name: until})
        pipe.expire(channels, math.ceil(ttl))
        pipe.zadd(_key("presence"), {str(int(user_id)): until}, gt=True)
        pipe.execute()
    except (RedisError, OSError) as exc:
        logger.error("live presence of listener %s not recorded: %s", user_id, exc)
        return False
    return True


def live_presence_remove(*, user_id: int, channel_name: str) -> bool:
    """Forget one connection (it closed); the listener stays present while another is open.
    Whether Redis took it."""
    try:
        script = _redis().register_script(_LEAVE)
        script(
            keys=[_key("channels", int(user_id)), _key("presence")],
            args=[channel_name, clock(), str(int(user_id))],
        )
    except (RedisError, OSError) as exc:
        logger.error("live presence of listener %s not removed: %s", user_id, exc)
        return False
    return True


def live_listener_connected(*, user_id: int) -> bool:
    """Whether the listener has a connection open (False when Redis cannot say: nothing could
    reach them then anyway)."""
    try:
        score = _redis().zscore(_key("presence"), str(int(user_id)))
    except (RedisError, OSError) as exc:
        logger.error("live presence of listener %s unknown: %s", user_id, exc)
        return False
    return score is not None and float(score) > clock()


def live_listeners_connected(*, batch: int) -> Iterator[list[int]]:
    """The connected listeners, in lists of at most ``batch`` (lapsed entries are dropped
    first). Read incrementally (``ZSCAN``), so a large presence set is never held at once."""
    now = clock()
    redis = _redis()
    key = _key("presence")
    redis.zremrangebyscore(key, "-inf", now)
    seen: set[int] = set()
    chunk: list[int] = []
    for member, score in redis.zscan_iter(key, count=max(batch, 10)):
        user_id = int(member)
        if float(score) <= now or user_id in seen:  # ZSCAN may return a member twice
            continue
        seen.add(user_id)
        chunk.append(user_id)
        if len(chunk) >= batch:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --------------------------------------------------------------------------- skip bursts


# KEYS: the listener's skips. ARGV: now, window, burst, this skip's member. Returns 1 when this
# skip completes a burst (and the count starts again), else 0.
_SKIP = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - window))
redis.call('ZADD', KEYS[1], now, ARGV[4])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  return 1
end
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
return 0
"""


def live_skip_burst(*, user_id: int) -> bool:
    """Count one skip of the listener at :data:`clock`; whether it completes a burst (the
    ``skip_burst``-th skip within ``skip_window_s`` seconds, the first one included). False
    when Redis does not answer."""
    options = live_settings()
    now = clock()
    try:
        script = _redis().register_script(_SKIP)
        burst = script(
            keys=[_key("skips", int(user_id))],
            args=[
                now,
                float(options["skip_window_s"]),
                int(options["skip_burst"]),
                f"{now}:{secrets.token_hex(4)}",
            ],
        )
    except (RedisError, OSError) as exc:
        logger.error("skip of listener %s not counted for live updates: %s", user_id, exc)
        return False
    return bool(int(burst))


# --------------------------------------------------------------------------- triggers


def live_taste_changed(*, user_id: int, reason: str) -> bool:
    """React to a change of the listener's taste data (the ``taste_changed`` hook, after it
    committed): ``history.changed`` and a pushed list for the changes that call for them (see
    the module docstring), when the listener is connected. Whether an update was enqueued."""
    if reason == TasteChange.SKIP:
        if not live_skip_burst(user_id=user_id):
            return False
    elif reason not in PUSH_CHANGES:
        return False
    if not live_listener_connected(user_id=user_id):
        return False
    if reason in HISTORY_CHANGES:
        count = HistoryEntry.objects.filter(user_id=user_id).count()
        realtime.broadcast(
            user_id=user_id, topic=TOPIC, message={"type": "history.changed", "count": count}
        )
    return enqueue("recommendations.push_update", user_id, str(reason))


def live_fan_out(*, reason: str = REASON_TRAINING) -> int:
    """Push a new list to every connected listener (after a training): enqueue one
    ``recommendations.push_update_batch`` per ``fan_out_batch`` listeners; how many listeners.
    Redis down: logged, nothing pushed (nobody could hear it)."""
    batch = max(1, int(live_settings()["fan_out_batch"]))
    listeners = 0
    try:
        for user_ids in live_listeners_connected(batch=batch):
            enqueue("recommendations.push_update_batch", user_ids, reason)
            listeners += len(user_ids)
    except (RedisError, OSError) as exc:
        logger.error("live fan-out (%s) stopped after %s listeners: %s", reason, listeners, exc)
    return listeners


# --------------------------------------------------------------------------- the update


@dataclass(frozen=True)
class ListParameters:
    """What a pushed list is computed with (``None``: the listener's stored value)."""

    n: int
    mood: str | None = None
    activity: str | None = None
    discovery: float | None = None


def _invalid(parameter: str, message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_parameter", extra={"parameter": parameter})


#: A whole number as a client may send it: ASCII digits, a few of them (``"²".isdigit()`` is
#: true and ``int()`` of 5,000 digits raises: neither may reach ``int``).
_DIGITS = re.compile(r"[0-9]{1,6}")


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            return float(value)  # an int of 400 digits overflows a float
        if isinstance(value, str) and len(value) <= 32:
            return float(value)
    except (OverflowError, ValueError):
        return None
    return None


def live_list_parameters(*, content: Mapping[str, Any]) -> ListParameters:
    """The parameters of a client's ``refresh`` (``n``, ``mood``, ``activity``, ``discovery``,
    each optional; validated as the API validates its query): ``ApplicationError``
    ``invalid_parameter`` naming the first bad one. Other keys are ignored."""
    n = int(live_settings()["results"])
    if content.get("n") is not None:
        given = _whole_number(content["n"])
        if given is None or not 1 <= given <= N_MAX:
            raise _invalid("n", f"n must be a whole number from 1 to {N_MAX}.")
        n = given
    choices: dict[str, str | None] = {}
    for name, allowed in (("mood", Mood.values), ("activity", Activity.values)):
        value = content.get(name)
        if value is None:
            choices[name] = None  # the stored one
        elif value == "":
            choices[name] = ""  # none for this list, as the API's ?mood=
        elif isinstance(value, str) and value in allowed:
            choices[name] = value
        else:
            raise _invalid(name, f"{name} must be one of: {', '.join(allowed)}.")
    discovery = None
    if content.get("discovery") is not None:
        discovery = _number(content["discovery"])
        if discovery is None or not math.isfinite(discovery) or not 0.0 <= discovery <= 1.0:
            raise _invalid("discovery", "discovery must be a number from 0 (familiar) to 1 (new).")
    return ListParameters(
        n=n, mood=choices["mood"], activity=choices["activity"], discovery=discovery
    )


def live_update_push(
    *,
    user_id: int,
    reason: str,
    parameters: Mapping[str, Any] | None = None,
    reply_channel: str | None = None,
) -> bool:
    """Compute the listener's list (``recommendation_list_serve``, surface ``live``) and send
    it as a ``recommendations.update``: to ``reply_channel`` only (a connection's refresh), or
    to all the listener's connections, if any is still open. Whether it was sent."""
    if reply_channel is None and not live_listener_connected(user_id=user_id):
        return False  # gone since: a list nobody sees is not recorded as served
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    chosen = ListParameters(**parameters) if parameters else live_list_parameters(content={})
    served = recommendation_list_serve(
        user=user,
        n=chosen.n,
        mood=chosen.mood,
        activity=chosen.activity,
        discovery=chosen.discovery,
        surface=ImpressionSurface.LIVE,
    )
    message = {
        "type": "recommendations.update",
        "reason": reason,
        "impression_id": served.payload["impression_id"],
        "parameters": served.payload["parameters"],
        "results": served.payload["results"],
    }
    if reply_channel is not None:
        return _send_to_connection(reply_channel, message)
    return realtime.broadcast(user_id=user_id, topic=TOPIC, message=message)


def live_updates_push(*, user_ids: list[int], reason: str) -> int:
    """:func:`live_update_push` for each of these listeners (a fan-out batch); how many were
    sent. One that fails is logged and skipped: the others still get theirs, and a retry of the
    batch would send them theirs twice."""
    sent = 0
    for user_id in user_ids:
        try:
            sent += live_update_push(user_id=user_id, reason=reason)
        except Exception:
            logger.exception("live update (%s) of listener %s failed", reason, user_id)
    return sent


def _send_to_connection(channel_name: str, message: dict[str, Any]) -> bool:
    """``message`` to one connection (guarded like ``realtime.broadcast``). The channel name
    comes from that connection's consumer, never from a client."""
    try:
        layer = get_channel_layer()
        if layer is None:
            logger.warning("no channel layer configured; refresh answer not sent")
            return False

        async def send() -> None:
            event = {"type": realtime.EVENT_TYPE, "message": message}
            await asyncio.wait_for(layer.send(channel_name, event), timeout=realtime.SEND_TIMEOUT)

        async_to_sync(send)()
    except Exception:  # Redis down, time-outs, …: the client may ask again
        logger.exception("could not send a refreshed list to %s", channel_name)
        return False
    return True


# --------------------------------------------------------------------------- refresh


@dataclass(frozen=True)
class RefreshOutcome:
    accepted: bool
    retry_after: int = 0  # seconds until the next refresh is allowed, when refused


def live_refresh_request(
    *, user_id: int, channel_name: str, content: Mapping[str, Any]
) -> RefreshOutcome:
    """A connection's ``{"type": "refresh", …}``: validate its parameters (``ApplicationError``
    ``invalid_parameter``; a bad one uses up no refresh), allow one per listener per
    ``refresh_interval_s`` (``accepted`` False with ``retry_after``), and enqueue the list's
    computation in the worker, answered to ``channel_name``. ``ApplicationError``
    ``unavailable`` when the queue cannot take it."""
    parameters = live_list_parameters(content=content)
    interval_ms = max(1, int(float(live_settings()["refresh_interval_s"]) * 1000))
    key = _key("refresh", int(user_id))
    try:
        redis = _redis()
        if not redis.set(key, "1", nx=True, px=interval_ms):
            wait_ms = int(redis.pttl(key))
            return RefreshOutcome(accepted=False, retry_after=max(1, math.ceil(wait_ms / 1000)))
    except (RedisError, OSError) as exc:
        # the limit cannot be checked; the queue lives on Redis too and will say if it is down
        logger.error("refresh limit of listener %s not checked: %s", user_id, exc)
    if not enqueue(
        "recommendations.push_update",
        user_id,
        REASON_REFRESH,
        parameters=asdict(parameters),
        reply_channel=channel_name,
    ):
        raise ApplicationError(
            "Live updates are paused for a moment; reload the page to see your list.",
            code="unavailable",
        )
    return RefreshOutcome(accepted=True)
