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

Access: open with ``DEBUG=1``; in production ``METRICS_TOKEN`` must be set and sent as
``Authorization: Bearer <token>`` (without a token configured, ``/metrics`` answers 403).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterator

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
LATENCY = Histogram(
    "musicrec_http_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it, by route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
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
        LATENCY.labels(method, route).observe(time.perf_counter() - started)
        REQUESTS.labels(method, route, str(response.status_code)).inc()
        return response


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
