"""Staff dashboard benchmark: the cost of computing every figure of ``/staff/insights/`` at scale,
and the per-request cost of the latency counts each web process keeps for it.

    .venv/bin/python -m musicrec.stack bench -- .venv/bin/python scripts/bench_dashboard.py

The launcher gives a fresh, migrated, empty database (``var/bench/``). The script loads the demo
catalog and writes with set-based SQL (seeded):

- ``--listeners`` (10,000) listeners who signed up over the last 12 weeks;
- ``--events`` (1,000,000) interactions over the last 100 days (70 % plays, 15 % skips, 7 %
  likes, 3 % dislikes, 5 % playlist adds; tracks drawn with a steep skew), recorded when they
  happened;
- ``--lists`` (20,000) served lists of 10 tracks over the last 10 days (sources collaborative
  and content), and ``--imports`` (2,000) listening imports.

Then it times the Celery task's work, ``insights.services.dashboard.dashboard_refresh`` (compute
the heavy figures and store them: the first call, then the median of ``--repeat``) with its
query count, a page view's own reads (the stored figures and the cheap, always fresh part:
``stored_dashboard_figures`` and ``health_figures``), each selector alone (median), and
a listener's insights (``insights.selectors.listener.listener_insights``, the page's and the
API's one call) for the ten busiest listeners, and ``LatencyBatch.observe`` per request (no
flush, and with a flush every 10 s of requests).
Figures, not a test: docs/insights.md records them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import django_setup_with_demo_catalog

SEED = 0.14


def _populate(*, listeners: int, events: int, lists: int, imports: int) -> None:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [SEED])
        cursor.execute(
            """
            INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name,
                email, is_staff, is_active, date_joined, age, gender, country, occupation,
                time_zone, mood, activity, discovery)
            SELECT '!', false, 'bench' || n, '', '', '', false, true,
                   now() - random() * interval '84 days', NULL, '', '', '', 'UTC', '', '', 0.5
              FROM generate_series(1, %s) AS n
            """,
            [listeners],
        )
        cursor.execute(
            """
            CREATE TEMP TABLE bench_track ON COMMIT DROP AS
            SELECT row_number() OVER (ORDER BY random()) - 1 AS i, id, duration_ms
              FROM catalog_track;
            CREATE UNIQUE INDEX ON bench_track (i);
            CREATE TEMP TABLE bench_user ON COMMIT DROP AS
            SELECT row_number() OVER (ORDER BY id) - 1 AS i, id FROM accounts_user
             WHERE username LIKE 'bench%%';
            CREATE UNIQUE INDEX ON bench_user (i);
            """
        )
        cursor.execute("SELECT count(*) FROM bench_track")
        n_tracks = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO history_interaction (user_id, track_id, kind, occurred_at, recorded_at,
                listened_ms, mood, activity)
            SELECT u.id, t.id, e.kind, e.at, e.at,
                   CASE WHEN e.kind = 'play' THEN (t.duration_ms * (0.3 + 0.7 * random()))::int
                   END, '', ''
              FROM (
                SELECT floor(%(users)s * random())::int AS ui,
                       floor(%(tracks)s * random() ^ 3)::int AS ti,
                       CASE WHEN r < 0.70 THEN 'play' WHEN r < 0.85 THEN 'skip'
                            WHEN r < 0.92 THEN 'like' WHEN r < 0.95 THEN 'dislike'
                            ELSE 'add_to_playlist' END AS kind,
                       now() - random() * interval '100 days' AS at
                  FROM (SELECT random() AS r FROM generate_series(1, %(events)s)) AS draws
              ) AS e
              JOIN bench_user u ON u.i = e.ui
              JOIN bench_track t ON t.i = e.ti
            """,
            {"users": listeners, "tracks": n_tracks, "events": events},
        )
        cursor.execute(
            """
            INSERT INTO recommendations_impression (id, user_id, served_at, surface, parameters,
                items, variant)
            SELECT gen_random_uuid(), u.id, l.at, 'web', '{}'::jsonb,
                   (SELECT jsonb_agg(jsonb_build_object(
                        'track_id', t.id, 'position', p, 'score', 0.5,
                        'sources', jsonb_build_object('collaborative', 0.5,
                                                      'content', (p %% 2) * 0.3)))
                      FROM generate_series(1, 10) AS p
                      JOIN bench_track t ON t.i = (l.seed * 7919 + p * 104729) %% %(tracks)s),
                   ''
              FROM (
                SELECT floor(%(users)s * random())::int AS ui, n AS seed,
                       now() - random() * interval '10 days' AS at
                  FROM generate_series(1, %(lists)s) AS n
              ) AS l
              JOIN bench_user u ON u.i = l.ui
            """,
            {"users": listeners, "tracks": n_tracks, "lists": lists},
        )
        cursor.execute(
            """
            INSERT INTO history_listenimport (user_id, format, file_name, file_size, status,
                progress, attempts, listens, skipped, matched, unmatched, created, duplicates,
                over_limit, top_unmatched, offered_track_ids, error, created_at)
            SELECT u.id, 'lastfm', '', 0,
                   (ARRAY['done', 'done', 'done', 'failed', 'pending'])[
                       1 + floor(5 * random())::int],
                   100, 1, 1000, 0, 800, 200, 800, 0, 0, '[]', '[]', '',
                   now() - random() * interval '60 days'
              FROM generate_series(1, %(imports)s) AS n
              JOIN bench_user u ON u.i = floor(%(users)s * random())::int
            """,
            {"users": listeners, "imports": imports},
        )
        cursor.execute(
            "ANALYZE accounts_user; ANALYZE history_interaction; "
            "ANALYZE recommendations_impression; ANALYZE history_listenimport"
        )
    print(
        f"data: {listeners:,} listeners, {events:,} interactions, {lists:,} served lists, "
        f"{imports:,} imports in {time.perf_counter() - started:.1f} s"
    )


def _median_ms(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--lists", type=int, default=20_000)
    parser.add_argument("--imports", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the data of a kept instance (stack bench --keep)"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the plan of the served lists' query"
    )
    args = parser.parse_args()

    django_setup_with_demo_catalog()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import User
    from insights.selectors import health, platform
    from insights.selectors.dashboard import health_figures, stored_dashboard_figures
    from insights.services.dashboard import dashboard_refresh
    from musicrec.metrics import LatencyBatch

    if not (args.reuse and User.objects.filter(username__startswith="bench").exists()):
        _populate(
            listeners=args.listeners, events=args.events, lists=args.lists, imports=args.imports
        )
    if args.explain:
        from recommendations.selectors.outcomes import ImpressionFilter, item_outcomes_sql

        sql, params = item_outcomes_sql(
            ImpressionFilter(since=timezone.now() - dt.timedelta(days=7))
        )
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM ({sql}) AS o", params)
            print("\n".join(row[0] for row in cursor.fetchall()))
    now = timezone.now()
    today = now.date()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        outcome = dashboard_refresh(now=now)
        first = (time.perf_counter() - started) * 1000
    if not outcome.computed:
        sys.exit("dashboard_refresh: another computation holds the lock; try again later")
    print(f"dashboard_refresh (the task): first {first:.0f} ms, {len(queries)} queries")
    median = _median_ms(lambda: dashboard_refresh(now=now), args.repeat)
    print(f"dashboard_refresh (the task): median of {args.repeat}: {median:.0f} ms")
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        assert stored_dashboard_figures().figures is not None
        health_figures(now=now)
        view = (time.perf_counter() - started) * 1000
    view_median = _median_ms(
        lambda: (stored_dashboard_figures(), health_figures(now=now)), args.repeat
    )
    print(
        f"a page view's reads (stored figures + health_figures): first {view:.1f} ms, "
        f"{len(queries)} queries; median of {args.repeat}: {view_median:.1f} ms"
    )
    parts: dict[str, Callable[[], object]] = {
        "active_listeners": lambda: platform.active_listeners(now=now),
        "activity_per_day (30 d)": lambda: platform.activity_per_day(days=30, today=today),
        "popular_tracks_over_time (90 d)": lambda: platform.popular_tracks_over_time(
            days=90, top=5, period="week", now=now
        ),
        "popular_genres_over_time (90 d)": lambda: platform.popular_genres_over_time(
            days=90, top=5, period="week", now=now
        ),
        "import_figures (30 d)": lambda: platform.import_figures(days=30, today=today),
        "listener_cohorts (10 w)": lambda: platform.listener_cohorts(weeks=10, today=today),
        "model_versions": lambda: health.model_versions(limit=8),
        "served_rates (7 d)": lambda: health.served_rates(since=now - dt.timedelta(days=7)),
        "running_experiments": lambda: health.running_experiments(now=now),
        "route_latencies (Redis)": lambda: health.route_latencies(hours=24, limit=12),
    }
    for name, call in parts.items():
        print(f"  {name:34s} {_median_ms(call, args.repeat):8.1f} ms")

    # a listener's insights (/insights/ and GET /api/v1/me/insights/: one selector call) for
    # the ten busiest listeners: the platform average computed (cache emptied), then cached
    from django.core.cache import cache
    from django.db.models import Count

    from insights.selectors.listener import PLATFORM_CACHE_KEY, listener_insights

    busiest = list(
        User.objects.filter(username__startswith="bench")
        .annotate(events=Count("interactions"))
        .order_by("-events")[:10]
    )
    cache.delete(PLATFORM_CACHE_KEY)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        listener_insights(user=busiest[0], now=now)
        cold = (time.perf_counter() - started) * 1000
    cold_queries = len(queries)
    timings = []
    with CaptureQueriesContext(connection) as queries:
        for user in busiest:
            started = time.perf_counter()
            listener_insights(user=user, now=now)
            timings.append((time.perf_counter() - started) * 1000)
    print(
        f"listener_insights, busiest listener ({busiest[0].events} events), platform average "
        f"computed: {cold:.0f} ms, {cold_queries} queries; ten busiest with it cached: median "
        f"{statistics.median(timings):.1f} ms, max {max(timings):.1f} ms, "
        f"{len(queries) // len(busiest)} queries each"
    )

    # the middleware's share: LatencyBatch.observe per request
    calls = 200_000
    quiet = LatencyBatch(interval=1e9)
    started = time.perf_counter()
    for n in range(calls):
        quiet.observe("GET /api/v1/recommendations/", (n % 400) / 1000)
    per_call = (time.perf_counter() - started) / calls * 1e6
    print(f"LatencyBatch.observe without a flush: {per_call:.2f} µs per request")
    clock = [0.0]
    flushing = LatencyBatch(interval=10, clock=lambda: clock[0])
    flush_times = []
    for n in range(1000):
        clock[0] += 0.5  # a request every half second: a flush every 20 requests
        started = time.perf_counter()
        flushing.observe(f"GET /route/{n % 30}/", (n % 400) / 1000)
        flush_times.append((time.perf_counter() - started) * 1000)
    flush_times.sort()
    print(
        "LatencyBatch.observe, a flush every 10 s (30 routes): "
        f"median {statistics.median(flush_times):.3f} ms, max {flush_times[-1]:.2f} ms "
        "(the max is a request that flushed: one pipelined batch)"
    )


if __name__ == "__main__":
    main()
