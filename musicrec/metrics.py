"""Prometheus metrics at ``GET /metrics`` (prometheus-client's text format).

Two kinds of figures:

* **Per process**, kept in memory: ``musicrec_http_requests_total`` and
  ``musicrec_http_request_duration_seconds`` by method, URL pattern (the route, never the raw
  path, so the number of series stays bounded) and status, plus prometheus-client's process
  figures (CPU, memory, open files). With several web processes each answers for itself:
  scrape each process (one per container is the usual deployment), or read these as a sample.
* **Of the whole deployment**, read from PostgreSQL and Redis at each scrape: whether the
  database, Redis and the broker answer (the /health/ checks), the Celery queue's length, and
  the figures each app registers in ``musicrec.registry.metrics_collectors`` (accounts:
  listeners; catalog: tracks; history: entries, interactions of the last hour by kind, imports
  by status). Whole-table counts are a scan each: their cost grows with the tables.

The staff dashboard (``/staff/insights/``) wants latency percentiles of the whole deployment,
not of the one process that answers it: each process also adds its requests' histogram bucket
counts (by method and route) to Redis, in one pipelined batch of ``HINCRBY`` at most every
``RECOMMENDER["dashboard"]["latency_flush_seconds"]`` (from the request that crosses the
interval; never a Redis call per request), into hourly hashes that expire
(:class:`LatencyBatch`). :func:`latency_buckets` sums the last 24 hours' hashes and
:func:`histogram_quantile` estimates a percentile from them as Prometheus does. With Redis down
a flush is skipped (its counts dropped) and logged once until Redis answers again.

Access: open with ``DEBUG=1``; in production ``METRICS_TOKEN`` must be set and sent as
``Authorization: Bearer <token>`` (without a token configured, ``/metrics`` answers 403).
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from musicrec import registry
from musicrec.health import service_status

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "musicrec_http_requests",
    "HTTP requests answered by this process.",
    ["method", "route", "status"],
)
#: upper bounds (seconds) of the latency histogram's buckets, here and in Redis (+Inf after)
LATENCY_BOUNDS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LATENCY = Histogram(
    "musicrec_http_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it, by route.",
    ["method", "route"],
    buckets=LATENCY_BOUNDS,
)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"  # 404s of unknown paths: one series, whatever the path
    return "/" + match.route if match.route else match.view_name or "unnamed"


class MetricsMiddleware:
    """Counts and times every request (first in the middleware list, so it sees them all)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in _METHODS else "other"
        route = _route(request)
        elapsed = time.perf_counter() - started
        LATENCY.labels(method, route).observe(elapsed)
        REQUESTS.labels(method, route, str(response.status_code)).inc()
        latency_batch.observe(f"{method} {route}", elapsed)
        return response


# --------------------------------------------------------------------------- deployment latency
#: One Redis hash per hour (UTC) of every process's bucket counts: field ``"<method> <route>|<le>"``
#: (``le``: a bound of LATENCY_BOUNDS as Prometheus writes it, or ``+Inf``), value the count of
#: requests in that bucket (not cumulative). Hourly, so "the last 24 hours" is 24 hashes (a
#: day-sized hash would make it 24–48 hours); each expires two days after its hour began.
LATENCY_KEY = "musicrec:latency:v1:{hour}"
LATENCY_KEY_TTL_SECONDS = 2 * 24 * 3600
_LE = (*(repr(bound) for bound in LATENCY_BOUNDS), "+Inf")


def latency_key(moment: dt.datetime) -> str:
    return LATENCY_KEY.format(hour=moment.astimezone(dt.UTC).strftime("%Y%m%d%H"))


def _redis() -> Any:
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def _flush_seconds() -> float:
    options = settings.RECOMMENDER.get("dashboard", {})
    return float(options.get("latency_flush_seconds", 10))


class LatencyBatch:
    """This process's request counts per latency bucket since its last flush, added to Redis
    when ``interval`` seconds (default: the setting) have passed: the request that crosses the
    interval sends one pipelined batch (an ``HINCRBY`` per non-empty bucket and an ``EXPIRE``).
    Thread-safe (a lock around the counts; the flush itself runs outside it). A failed flush
    drops its counts and is logged once, until one succeeds again."""

    def __init__(
        self,
        *,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        redis: Callable[[], Any] = _redis,
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._redis = redis
        self._lock = threading.Lock()
        self._counts: dict[str, list[int]] = {}
        self._last = clock()
        self._failing = False

    def observe(self, series: str, seconds: float) -> None:
        index = bisect.bisect_left(LATENCY_BOUNDS, seconds)  # le: a value on a bound is in it
        interval = _flush_seconds() if self._interval is None else self._interval
        with self._lock:
            counts = self._counts.get(series)
            if counts is None:
                counts = self._counts[series] = [0] * len(_LE)
            counts[index] += 1
            now = self._clock()
            if now - self._last < interval:
                return
            taken, self._counts, self._last = self._counts, {}, now
        self.flush(taken)

    def flush(self, counts: Mapping[str, Sequence[int]] | None = None) -> bool:
        """Adds ``counts`` (default: everything counted so far) to this hour's hash; False when
        Redis did not take them."""
        if counts is None:
            with self._lock:
                counts, self._counts, self._last = self._counts, {}, self._clock()
        if not counts:
            return True
        key = latency_key(dt.datetime.now(dt.UTC))
        try:
            pipe = self._redis().pipeline(transaction=False)
            for series, values in counts.items():
                for le, value in zip(_LE, values, strict=True):
                    if value:
                        pipe.hincrby(key, f"{series}|{le}", value)
            pipe.expire(key, LATENCY_KEY_TTL_SECONDS)
            pipe.execute()
        except Exception:
            if not self._failing:
                logger.warning("metrics: latency counts not sent to Redis (skipped)", exc_info=True)
            self._failing = True
            return False
        self._failing = False
        return True


latency_batch = LatencyBatch()


def latency_buckets(
    *, hours: int = 24, now: dt.datetime | None = None, redis: Callable[[], Any] = _redis
) -> dict[str, list[int]]:
    """Every process's bucket counts of the last ``hours`` hours (the current one included)
    per ``"<method> <route>"``, summed: ``{series: [count per bucket of LATENCY_BOUNDS, +Inf]}``
    (not cumulative). One pipelined ``HGETALL`` per hour. Raises when Redis does not answer."""
    now = now or dt.datetime.now(dt.UTC)
    pipe = redis().pipeline(transaction=False)
    for back in range(hours):
        pipe.hgetall(latency_key(now - dt.timedelta(hours=back)))
    totals: dict[str, list[int]] = {}
    position = {le: index for index, le in enumerate(_LE)}
    for fields in pipe.execute():
        for field, value in fields.items():
            series, _, le = (field.decode() if isinstance(field, bytes) else field).rpartition("|")
            index = position.get(le)
            if index is None or not series:
                continue  # written by another version of this code
            counts = totals.get(series)
            if counts is None:
                counts = totals[series] = [0] * len(_LE)
            counts[index] += int(value)
    return totals


def histogram_quantile(
    quantile: float, counts: Sequence[int], bounds: Sequence[float] = LATENCY_BOUNDS
) -> float | None:
    """The ``quantile`` (0–1) of a histogram of ``counts`` per bucket (``bounds`` then +Inf;
    not cumulative), estimated as Prometheus' ``histogram_quantile``: the bucket holding the
    rank, then linear interpolation inside it (from 0 for the first bucket). A rank in the
    +Inf bucket answers the largest finite bound. None without requests."""
    total = sum(counts)
    if total <= 0:
        return None
    rank = quantile * total
    below = 0
    for index, count in enumerate(counts):
        if count and below + count >= rank:
            if index >= len(bounds):
                return float(bounds[-1])
            lower = 0.0 if index == 0 else float(bounds[index - 1])
            upper = float(bounds[index])
            return lower + (upper - lower) * (rank - below) / count
        below += count
    return float(bounds[-1])


class DeploymentCollector(Collector):
    """Figures of the whole deployment, read at scrape time: the services' state here, the
    apps' figures from ``musicrec.registry.metrics_collectors``."""

    def describe(self) -> list[GaugeMetricFamily]:
        """Nothing: prometheus-client calls this when the collector is registered, at import;
        without it, it would call ``collect()`` there, querying the database, Redis and the
        broker whenever the module is imported (a traceback during the first migrate, before
        the tables existed; under pytest, a connection pool made before the test database
        existed, so that tests ran against the real one). The names serve only to detect
        clashes, and the apps' figures are not known before they are read."""
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "musicrec_service_up",
            "1 when the service answers (as /health/ checks).",
            labels=["service"],
        )
        states = service_status()
        for name, state in states.items():
            up.add_metric([name], 1.0 if state == "ok" else 0.0)
        yield up
        if states.get("database") == "ok":
            for name, collect in registry.metrics_collectors.items():
                try:
                    # a list first: a failing query must not leave half a family behind
                    yield from list(collect())
                except Exception:  # a scrape must not fail because one app's figures did
                    logger.exception("metrics: the figures of %s failed", name)
        if states.get("broker") == "ok":
            try:
                yield _queue_length()
            except Exception:
                logger.exception("metrics: queue length failed")


def _queue_length() -> GaugeMetricFamily:
    from musicrec.celery import app

    with app.connection_for_read() as conn:
        waiting = conn.default_channel.client.llen(app.conf.task_default_queue)
    return GaugeMetricFamily(
        "musicrec_celery_queue_length", "Tasks waiting in the Celery queue.", value=waiting
    )


_collector = DeploymentCollector()
REGISTRY.register(_collector)


def _authorised(request: HttpRequest) -> bool:
    if settings.DEBUG and not settings.METRICS_TOKEN:
        return True
    if not settings.METRICS_TOKEN:
        return False
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    # bytes: compare_digest refuses non-ASCII str (a stray header must be a 403, not a 500)
    return scheme.lower() == "bearer" and secrets.compare_digest(
        token.encode(), settings.METRICS_TOKEN.encode()
    )


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        return HttpResponse(
            "Metrics need METRICS_TOKEN, sent as 'Authorization: Bearer <token>'.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
