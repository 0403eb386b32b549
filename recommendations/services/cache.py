"""The cache of served lists: Redis, through Django's cache.

A list's payload (without its impression id: every serve records its own impression) is cached
per listener and per request (n, mood, activity, discovery) under a key holding two versions:

* the listener's version, a random token in its own key, replaced by the ``taste_changed`` hook
  after any change to what their lists are computed from (history, feedback, skips, imports,
  preferences, context, demographics, blocks, default discovery): the next request builds a key
  no list was stored under. Nothing is deleted and no key is ever scanned; the lists left
  behind expire (``RECOMMENDER["cache"]["timeout_seconds"]``). A random token rather than a
  counter: a version key that expired or was evicted comes back as a new token, never as one a
  stale list is stored under;
* the global version, the serving state's generations
  (``selectors.serving.generation_key``: catalog, active model version, popularity refresh),
  so a finished training or view refresh makes every next request fresh.

With Redis down every read answers "nothing" (django-redis with ``IGNORE_EXCEPTIONS``, which
logs each failure): lists are computed uncached and nothing fails. A change made while Redis is
unreachable cannot replace the version: a list cached before it may then be served until it
expires (at most the timeout).

Hits and misses are counted in two Redis counters (``selectors.cache.cache_figures``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache

from recommendations.selectors import serving
from recommendations.selectors.cache import HITS_KEY, MISSES_KEY

logger = logging.getLogger(__name__)

LISTENER_VERSION_KEY = "recommendations:lists:version:{user_id}"
LIST_KEY = "recommendations:lists:{user_id}:{listener}:{generation}:{request}{experiment}"

Payload = dict[str, Any]


def cache_settings() -> dict[str, Any]:
    """``RECOMMENDER["cache"]`` (musicrec/settings.py), with its defaults."""
    return {
        "timeout_seconds": 3600,
        "listener_version_timeout_seconds": 30 * 86400,
        "precompute_active_days": 7,
        "precompute_max_listeners": 5000,
        **settings.RECOMMENDER.get("cache", {}),
    }


def _token() -> str:
    return uuid.uuid4().hex[:16]


def listener_version(*, user_id: int) -> str | None:
    """The listener's current version (one is made on first use); None when the cache does not
    answer (Redis down): then nothing is cached."""
    key = LISTENER_VERSION_KEY.format(user_id=user_id)
    version = cache.get(key)
    if version is None:
        cache.add(key, _token(), timeout=cache_settings()["listener_version_timeout_seconds"])
        version = cache.get(key)
    return None if version is None else str(version)


def listener_lists_invalidate(*, user_id: int) -> None:
    """Make the listener's next request of any list fresh: a new version (no key is deleted
    or scanned)."""
    stored: bool | None = cache.set(  # type: ignore[func-returns-value]
        LISTENER_VERSION_KEY.format(user_id=user_id),
        _token(),
        timeout=cache_settings()["listener_version_timeout_seconds"],
    )
    if not stored and _redis_backed():
        # django-redis answers True when stored, None when it ignored a connection error
        logger.warning(
            "cached lists of listener %s could not be invalidated (cache unavailable); "
            "they expire within %s s",
            user_id,
            cache_settings()["timeout_seconds"],
        )


def _redis_backed() -> bool:
    return "django_redis" in settings.CACHES["default"]["BACKEND"]


def _request_part(
    *, n: int, mood: str | None, activity: str | None, discovery: float | None
) -> str:
    """The request's own parameters as they were asked (``None``: the listener's stored value,
    which the listener's version covers; ``""``: none for this request)."""

    def text(value: str | None) -> str:
        return "~" if value is None else value

    return f"{n}:{text(mood)}:{text(activity)}:{'~' if discovery is None else repr(discovery)}"


def _generation_part(generation: tuple[Any, ...]) -> str:
    return "-".join("~" if part is None else str(part) for part in generation)


def _count(key: str) -> None:
    # INCRBY creating the key when missing (django-redis); None when Redis is down
    cache.incr(key, 1, ignore_key_check=True)  # type: ignore[call-arg]


def list_cached(
    *,
    user_id: int,
    n: int,
    mood: str | None,
    activity: str | None,
    discovery: float | None,
    compute: Callable[[], Payload],
    experiment: str = "",
) -> tuple[Payload, bool]:
    """The cached payload of this request, or ``compute()``'s, stored for the next one; and
    whether it was a hit. The versions are read *before* computing: a change that commits
    meanwhile replaces the listener's version, so what was computed from the data before it
    is stored under a key that is never asked for again. ``experiment``: the listener's
    experiment and variant (``Assignment.cache_part``, "" when none), part of the key."""
    listener = listener_version(user_id=user_id)
    if listener is None:
        logger.warning("list cache unavailable: list of listener %s computed uncached", user_id)
        return compute(), False
    generation = serving.generation_key()
    key = LIST_KEY.format(
        user_id=user_id,
        listener=listener,
        generation=_generation_part(generation),
        request=_request_part(n=n, mood=mood, activity=activity, discovery=discovery),
        experiment=f":{experiment}" if experiment else "",
    )
    payload = cache.get(key)
    if payload is not None:
        _count(HITS_KEY)
        return payload, True
    _count(MISSES_KEY)
    payload = compute()
    # stored only when computed from the state of these generations (a process still serving
    # the previous state while another thread rebuilds it would store last model's list under
    # the new model's key)
    if serving.loaded_generation_key() == generation:
        cache.set(key, payload, timeout=cache_settings()["timeout_seconds"])
    return payload, False


def list_cache_counters_reset() -> None:
    """Start the hit and miss counts again (tests; an operator after a change)."""
    cache.delete_many([HITS_KEY, MISSES_KEY])
