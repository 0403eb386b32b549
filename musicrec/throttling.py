"""Rate limits that fail closed: sign-in, sign-up, password reset and uploads.

DRF's own throttles keep their history in the cache, and the cache ignores Redis errors on
purpose (``IGNORE_EXCEPTIONS``) so that the site degrades instead of failing when Redis is down.
A throttle then reads "no history" and lets everything through. That is right for the general
per-user and anonymous rates, and wrong for the limits that stop password guessing, mail floods
and upload floods. The limits here talk to Redis through the cache's raw client
(``django_redis.get_redis_connection``) and refuse with a 503 when it does not answer.

Each counted thing (a client address, an account, a listener) has a sliding-window log in Redis:
a sorted set of attempt times. One Lua script checks and updates every key of an attempt at
once, so an attempt is counted everywhere or nowhere: a refused attempt costs nothing (as with
DRF's throttles), and an attempt refused for its account does not also use up its address.

Rates are named like DRF's scopes and read from the same table,
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (see settings): ``"20/minute"``, ``"10/15m"``,
``"3/hour"``.

Ways in:

* :func:`rate_limit` for page views: raises ``ApplicationError`` (429, or 503 with Redis down);
  :func:`upload_rate_limit` is the upload limit for the web upload page, and
  :func:`refusal_status` tells a page which status a form refused by a limit answers with;
* :class:`StrictScopedRateThrottle` for DRF views (``throttle_scope`` plus, optionally, the
  accounts a request names through ``view.throttle_accounts(request)``);
* :func:`rate_limit_attempt`, the primitive both are built on.

Both count the caller as the signed-in user, else the client address (:func:`caller_key`), so a
page and its API endpoint share one budget.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ImproperlyConfigured
from django.http import HttpRequest
from django_redis import get_redis_connection
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from musicrec.errors import ApplicationError

logger = logging.getLogger(__name__)

# Codes of the two refusals, and the HTTP status of each (pages use them to answer a form that was
# refused by a limit with the right status).
THROTTLED = "throttled"
UNAVAILABLE = "rate_limit_unavailable"
REFUSAL_STATUS = {THROTTLED: 429, UNAVAILABLE: 503}
# What a client is told to wait when the limits cannot be checked.
UNAVAILABLE_RETRY_AFTER = 60

_RATE = re.compile(
    r"^\s*(?P<count>\d+)\s*/\s*(?P<times>\d*)\s*"
    r"(?P<unit>s|sec|second|m|min|minute|h|hour|d|day)s?\s*$"
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    """``count`` attempts per ``seconds``."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"20/minute"``, ``"10/15m"``, ``"3/hour"``, ``"100/day"`` (DRF's form, plus an
        optional number of units)."""
        match = _RATE.match(text or "")
        if not match or int(match["count"]) < 1 or match["times"] == "0":
            raise ImproperlyConfigured(
                f"Rate {text!r} is not of the form '20/minute', '10/15m' or '3/hour' "
                "(at least one attempt per period)."
            )
        seconds = int(match["times"] or 1) * _UNIT_SECONDS[match["unit"][0]]
        return cls(count=int(match["count"]), seconds=seconds)


def configured_rates() -> Mapping[str, str]:
    """The rate table. DRF reads ``DEFAULT_THROTTLE_RATES`` once, into the throttle classes;
    the page limits read the same attribute, so API and pages always agree (tests lower a rate
    by patching ``ScopedRateThrottle.THROTTLE_RATES``)."""
    return ScopedRateThrottle.THROTTLE_RATES


def configured_rate(scope: str) -> Rate:
    try:
        return Rate.parse(configured_rates()[scope])
    except KeyError:
        raise ImproperlyConfigured(f"No throttle rate is set for the scope {scope!r}.") from None


@dataclass(frozen=True)
class Limit:
    """Count attempts of ``key`` (an address, an account…) at the rate named ``scope``."""

    scope: str
    key: str


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the attempt would be allowed; 0 when it is


# KEYS: one sorted set per limit. ARGV: now (ms), this attempt's member, then per key its
# allowed count and window (ms). Returns 0 (counted on every key) or the milliseconds to wait.
_SCRIPT = """
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local count = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= count then
    local entry = redis.call('ZRANGE', key, -count, -count, 'WITHSCORES')
    wait = math.max(wait, tonumber(entry[2]) + window - now, 1)
  end
end
if wait > 0 then
  return wait
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, tonumber(ARGV[2 + 2 * i]))
end
return 0
"""


def _redis_key(limit: Limit) -> str:
    # Hashed: the keys would otherwise hold addresses, usernames and e-mail addresses.
    digest = hashlib.sha256(limit.key.encode()).hexdigest()[:40]
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    return f"{prefix}:ratelimit:{limit.scope}:{digest}"


def _unavailable() -> ApplicationError:
    return ApplicationError(
        "This is paused for a moment: we cannot check how many attempts were made, because a "
        "service we rely on is not answering. Please try again in a minute.",
        code=UNAVAILABLE,
        status=REFUSAL_STATUS[UNAVAILABLE],
        extra={"retry_after": UNAVAILABLE_RETRY_AFTER},
    )


def rate_limit_attempt(*, limits: Sequence[Limit]) -> Verdict:
    """Count one attempt against every limit, or against none when any is used up.

    Fails closed: raises ``ApplicationError`` (503, code ``rate_limit_unavailable``) when Redis
    does not answer, instead of letting the attempt through uncounted.
    """
    if not limits:
        return Verdict(allowed=True, retry_after=0)
    rates = [configured_rate(limit.scope) for limit in limits]
    now_ms = int(time.time() * 1000)
    args: list[Any] = [now_ms, f"{now_ms}:{secrets.token_hex(6)}"]
    for rate in rates:
        args += [rate.count, rate.seconds * 1000]
    try:
        script = get_redis_connection("default").register_script(_SCRIPT)  # EVALSHA
        wait_ms = int(script(keys=[_redis_key(limit) for limit in limits], args=args))
    except (RedisError, OSError) as exc:
        logger.error("rate limits %s cannot be checked: %s", [lim.scope for lim in limits], exc)
        raise _unavailable() from None
    if wait_ms <= 0:
        return Verdict(allowed=True, retry_after=0)
    return Verdict(allowed=False, retry_after=max(1, math.ceil(wait_ms / 1000)))


# --------------------------------------------------------------------------- who is asking


def client_address(request: HttpRequest) -> str:
    """The client's address as far as it can be trusted.

    ``X-Forwarded-For`` is the client's to write; only the entries our own proxies appended can
    be believed. With ``NUM_PROXIES`` (default 0) proxies in front, the address is the
    NUM_PROXIES-th entry from the right; with 0 the header is ignored and the peer address
    (``REMOTE_ADDR``) counts. DRF's throttles use the same rule (``get_ident``).
    """
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    proxies = api_settings.NUM_PROXIES or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    entries = [entry.strip() for entry in forwarded.split(",")]
    return entries[-min(proxies, len(entries))] or remote


def caller_key(request: HttpRequest) -> str:
    """Who is asking: the signed-in user, else the client address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"addr:{client_address(request)}"


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def throttled_error(retry_after: int) -> ApplicationError:
    return ApplicationError(
        f"Too many attempts. Please wait {_wait_text(retry_after)} and try again.",
        code=THROTTLED,
        status=REFUSAL_STATUS[THROTTLED],
        extra={"retry_after": retry_after},
    )


def rate_limit(
    request: HttpRequest,
    *,
    scope: str,
    keys: Iterable[str | None] = (),
    key_scope: str | None = None,
) -> None:
    """Count one attempt of a page's action; raise ``ApplicationError`` when it is refused.

    The caller (the signed-in user, else the client address) is held to the rate ``scope``,
    with the same key as :class:`StrictScopedRateThrottle`, so a page and its API endpoint share
    one budget; each of ``keys`` (an account, an e-mail address: whatever the attempt is aimed
    at; ``None``/empty ones are skipped) to the rate ``key_scope`` (default
    ``"<scope>_account"``). Refusals: 429 (code ``throttled``, with ``retry_after``), or 503
    (code ``rate_limit_unavailable``) when Redis does not answer.
    """
    key_scope = key_scope or f"{scope}_account"
    limits = [Limit(scope, caller_key(request))]
    limits += [Limit(key_scope, f"key:{key}") for key in dict.fromkeys(keys) if key]
    verdict = rate_limit_attempt(limits=limits)
    if not verdict.allowed:
        raise throttled_error(verdict.retry_after)


def upload_rate_limit(request: HttpRequest) -> None:
    """The listening-data upload limit (rate ``imports``, per listener), shared with
    ``POST /api/v1/imports/``. For the web upload page: call it before reading the file; on
    ``ApplicationError`` show ``exc.message`` and answer with ``exc.status`` (429, or 503 when
    the limit cannot be checked)."""
    rate_limit(request, scope="imports")


def refusal_status(form: Any) -> int | None:
    """429 or 503 when a bound form was refused by :func:`rate_limit` (its error turned into a
    non-field ``ValidationError`` with the refusal's code), else None."""
    if form is None or not getattr(form, "is_bound", False):
        return None
    for error in form.errors.as_data().get(NON_FIELD_ERRORS, []):
        if error.code in REFUSAL_STATUS:
            return REFUSAL_STATUS[error.code]
    return None


# --------------------------------------------------------------------------- DRF


class StrictScopedRateThrottle(ScopedRateThrottle):
    """DRF's ``ScopedRateThrottle``, failing closed and counting per account too.

    The view's ``throttle_scope`` rate applies to the caller: the signed-in user, else the
    client address (:func:`client_address`). A view may also name the accounts a request is
    aimed at (the username typed into a sign-in) with ``throttle_accounts(request)``; each is held
    to the rate ``throttle_account_scope`` (default ``"<scope>_account"``). When Redis does not
    answer the request is refused with a 503 instead of being let through.
    """

    def __init__(self) -> None:
        self._retry_after = 0

    def get_ident(self, request: Any) -> str:
        return client_address(request)

    def allow_request(self, request: Any, view: Any) -> bool:
        scope = getattr(view, self.scope_attr, None)
        if not scope:
            return True
        limits = [Limit(scope, caller_key(request))]
        accounts = getattr(view, "throttle_accounts", None)
        if accounts is not None:
            account_scope = getattr(view, "throttle_account_scope", None) or f"{scope}_account"
            limits += [
                Limit(account_scope, f"key:{key}") for key in dict.fromkeys(accounts(request))
            ]
        verdict = rate_limit_attempt(limits=limits)
        self._retry_after = verdict.retry_after
        return verdict.allowed

    def wait(self) -> float | None:
        return self._retry_after or None
