"""Deployment-wide latency percentiles (musicrec.metrics): the quantile estimate on hand-made
buckets, the processes' batched flush to the real Redis, the dashboard's reading of it."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import redis as redis_py
from django_redis import get_redis_connection
from redis.backoff import NoBackoff
from redis.retry import Retry

from insights.selectors import health
from insights.selectors.health import route_latencies
from musicrec.metrics import (
    LATENCY_BOUNDS,
    LATENCY_KEY_TTL_SECONDS,
    LatencyBatch,
    histogram_quantile,
    latency_batch,
    latency_buckets,
    latency_key,
)

BUCKETS = len(LATENCY_BOUNDS) + 1  # and +Inf


def _counts(**by_bound: int) -> list[int]:
    """Counts per bucket from ``le_0_05=3`` style keywords (``inf`` for +Inf)."""
    counts = [0] * BUCKETS
    for name, count in by_bound.items():
        index = (
            BUCKETS - 1
            if name == "inf"
            else LATENCY_BOUNDS.index(float(name[3:].replace("_", ".")))
        )
        counts[index] = count
    return counts


def test_quantile_interpolates_inside_the_bucket_as_prometheus():
    # 10 requests ≤ 5 ms, 10 in (5, 10] ms, 20 in (50, 100] ms
    counts = _counts(le_0_005=10, le_0_01=10, le_0_1=20)
    # p50: rank 20 → the end of the (5, 10] ms bucket
    assert histogram_quantile(0.5, counts) == pytest.approx(0.01)
    # p25: rank 10 → the end of the first bucket, interpolated from 0
    assert histogram_quantile(0.25, counts) == pytest.approx(0.005)
    # p10: rank 4 → 4/10 of the way through (0, 5] ms
    assert histogram_quantile(0.1, counts) == pytest.approx(0.002)
    # p75: rank 30 → half-way through (50, 100] ms (the empty buckets between are skipped)
    assert histogram_quantile(0.75, counts) == pytest.approx(0.075)
    # p95: rank 38 → 18/20 of the way through (50, 100] ms
    assert histogram_quantile(0.95, counts) == pytest.approx(0.095)


def test_quantile_in_the_open_bucket_is_the_largest_bound_and_none_without_requests():
    assert histogram_quantile(0.99, _counts(le_0_1=1, inf=99)) == LATENCY_BOUNDS[-1]
    assert histogram_quantile(0.5, [0] * BUCKETS) is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def redis_db():
    """The test instance's real Redis (the cache's database), emptied around the test."""
    connection = get_redis_connection("default")
    connection.flushdb()
    yield connection
    connection.flushdb()


def test_a_process_flushes_its_counts_once_per_interval_to_redis(redis_db):
    # given a batch that flushes every 10 s
    clock = Clock()
    batch = LatencyBatch(interval=10, clock=clock)
    key = latency_key(dt.datetime.now(dt.UTC))

    # when requests come within the interval: nothing is sent
    batch.observe("GET /api/v1/recommendations/", 0.004)
    batch.observe("GET /api/v1/recommendations/", 0.005)  # on a bound: in that bucket
    batch.observe("GET /", 0.3)
    clock.now += 9.9
    batch.observe("GET /", 12.0)  # beyond the last bound: +Inf
    assert not redis_db.exists(key)

    # when the request that crosses the interval comes: one batch with everything
    clock.now += 0.2
    batch.observe("GET /api/v1/recommendations/", 0.02)

    # then the hour's hash holds the counts per bucket, and expires
    stored = {k.decode(): int(v) for k, v in redis_db.hgetall(key).items()}
    assert stored == {
        "GET /api/v1/recommendations/|0.005": 2,
        "GET /api/v1/recommendations/|0.025": 1,
        "GET /|0.5": 1,
        "GET /|+Inf": 1,
    }
    assert 0 < redis_db.ttl(key) <= LATENCY_KEY_TTL_SECONDS

    # and a second process's counts add up
    other = LatencyBatch(interval=0)
    other.observe("GET /", 0.3)
    totals = latency_buckets(hours=24)
    assert totals["GET /"] == _counts(le_0_5=2, inf=1)
    assert sum(totals["GET /api/v1/recommendations/"]) == 3


def test_latency_buckets_sum_the_last_hours_only(redis_db):
    now = dt.datetime(2026, 11, 25, 12, 30, tzinfo=dt.UTC)
    for hours_ago, count in ((0, 1), (23, 2), (24, 4)):
        redis_db.hincrby(latency_key(now - dt.timedelta(hours=hours_ago)), "GET /|0.1", count)
    redis_db.hincrby(latency_key(now), "garbage-without-a-bound", 5)

    assert latency_buckets(hours=24, now=now) == {"GET /": _counts(le_0_1=3)}


def test_the_dashboard_reads_percentiles_per_route_recommendations_first(redis_db):
    key = latency_key(dt.datetime.now(dt.UTC))
    redis_db.hincrby(key, "GET /api/v1/tracks/|0.01", 50)
    redis_db.hincrby(key, "GET /recommendations/list/|0.1", 4)
    redis_db.hincrby(key, "GET /api/v1/recommendations/|0.25", 2)
    redis_db.hincrby(key, "GET /api/v1/recommendations/|0.5", 2)

    figures = route_latencies(hours=24, limit=10)

    assert figures.available
    assert [(r.series, r.requests, r.recommendation) for r in figures.routes] == [
        ("GET /api/v1/recommendations/", 4, True),
        ("GET /recommendations/list/", 4, True),
        ("GET /api/v1/tracks/", 50, False),
    ]
    api = figures.routes[0]
    # rank 2 of 4: the end of (0.1, 0.25]; rank 3.8: 1.8/2 through (0.25, 0.5]
    assert api.p50 == pytest.approx(0.25)
    assert api.p95 == pytest.approx(0.25 + 0.25 * 0.9)


def _dead_redis() -> redis_py.Redis:
    """A client of a Redis that does not answer (a port nothing listens on), without redis-py's
    default retries with back-off (seconds per call), as django-redis' connections are."""
    return redis_py.Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )


def test_redis_down_skips_the_flush_and_logs_once(caplog):
    # given a Redis that does not answer (a port nothing listens on)
    dead = _dead_redis()
    batch = LatencyBatch(interval=0, redis=lambda: dead)

    # when three requests cross the interval
    with caplog.at_level(logging.WARNING, logger="musicrec.metrics"):
        for _ in range(3):
            batch.observe("GET /", 0.01)  # never raises

    # then one warning, not one per flush
    warnings = [r for r in caplog.records if "latency counts not sent" in r.getMessage()]
    assert len(warnings) == 1
    with pytest.raises(redis_py.ConnectionError):
        latency_buckets(redis=lambda: dead)


def test_the_dashboard_says_unavailable_when_redis_is_down(monkeypatch):
    dead = _dead_redis()
    # the dashboard's reader, pointed at it (latency_buckets takes its client as an argument)
    monkeypatch.setattr(
        health, "latency_buckets", lambda hours: latency_buckets(hours=hours, redis=lambda: dead)
    )

    figures = route_latencies(hours=24, limit=5)

    assert (figures.available, figures.routes) == (False, [])


@pytest.mark.django_db
def test_every_request_is_counted_by_the_metrics_middleware(redis_db, client, listener):
    # given this process's counts sent so far
    latency_batch.flush()
    redis_db.flushdb()

    # when two pages are answered (one a 404 of an unknown path) and the counts are sent
    client.force_login(listener)
    client.get("/history/")
    client.get("/no-such-page/")
    assert latency_batch.flush()

    # then both are in this hour's hash, by method and route
    totals = latency_buckets(hours=1)
    assert sum(totals["GET /history/"]) == 1
    assert sum(totals["GET unmatched"]) == 1
