"""Popularity views benchmark: refresh time at catalog scale, and the selectors' cost.

    .venv/bin/python -m musicrec.stack bench -- .venv/bin/python scripts/bench_popularity.py \\
        --catalog ../shared/datasets/catalog/spotify_tracks.csv

The launcher gives a fresh, migrated, empty database (``var/bench/``). The script imports the
catalog, then writes with set-based SQL (seeded, so each run has the same data):

- ``--listeners`` (10,000) listeners, with an age (13–90), country (20 countries, skewed),
  gender and occupation each given by most but not all of them;
- ``--events`` (1,000,000) interactions over the last 100 days (so ~10 % fall out of the 90-day
  window): 70 % plays (listened share 0.3–1), 15 % skips, 7 % likes, 3 % dislikes, 5 % playlist
  adds; the track of an event is drawn with a steep skew (index ``n · u³`` of the tracks in
  random order: a few thousand tracks get most events, as in real listening);
- opinions from the likes and dislikes (the latest per listener and track), and 20 history
  entries per listener (from the same skew).

Then it times ``refresh_popularity()``: the first (every row new), ``--runs`` with nothing
new, one after ``--new-plays`` (1,000) new plays (a busy quarter of an hour), and one after
every event moved an hour back (every score changes, as at the first refresh of a day); and the
selectors the serving layer calls (median of ``--repeat`` calls). Figures, not a test:
docs/recommendations.md records them.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 0.20261130  # setseed() takes a value in [-1, 1]


def _setup(catalog: Path) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from catalog.models import Track

    if not Track.objects.exists():
        started = time.perf_counter()
        call_command("import_catalog", str(catalog), "--no-progress", stdout=io.StringIO())
        print(f"catalog imported in {time.perf_counter() - started:.1f} s")


def _populate(listeners: int, events: int) -> None:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [SEED])
        cursor.execute(
            """
            INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name,
                email, is_staff, is_active, date_joined, age, gender, country, occupation,
                time_zone, mood, activity)
            SELECT '!', false, 'bench' || n, '', '', '', false, true, now(),
                   CASE WHEN random() < 0.9 THEN 13 + floor(77 * random() ^ 1.8)::int END,
                   CASE WHEN random() < 0.8 THEN (ARRAY['M', 'F', 'NB', 'O'])[
                        1 + floor(random() * 2.2)::int] ELSE '' END,
                   CASE WHEN random() < 0.85 THEN (ARRAY['US', 'DE', 'GB', 'FR', 'BR', 'JP',
                        'MX', 'ES', 'IT', 'CA', 'SE', 'NL', 'PL', 'AU', 'IN', 'KR', 'AR', 'NO',
                        'FI', 'TR'])[1 + floor(20 * random() ^ 2)::int] ELSE '' END,
                   CASE WHEN random() < 0.7 THEN (ARRAY['student', 'engineer', 'teacher',
                        'healthcare', 'artist', 'scientist', 'sales', 'service', 'trades',
                        'management', 'office', 'retired', 'unemployed', 'other'])[
                        1 + floor(14 * random())::int] ELSE '' END,
                   'UTC', '', ''
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
                        WHEN e.kind = 'skip' THEN least(t.duration_ms, 20000) END,
                   '', ''
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
            INSERT INTO history_opinion (user_id, track_id, value, updated_at)
            SELECT DISTINCT ON (user_id, track_id) user_id, track_id, kind, occurred_at
              FROM history_interaction WHERE kind IN ('like', 'dislike')
             ORDER BY user_id, track_id, occurred_at DESC
            """
        )
        cursor.execute(
            """
            INSERT INTO history_historyentry (user_id, track_id, slot, added_at)
            SELECT user_id, track_id, row_number() OVER (PARTITION BY user_id ORDER BY track_id),
                   now() - random() * interval '100 days'
              FROM (
                SELECT DISTINCT p.user_id, t.id AS track_id
                  FROM (SELECT u.id AS user_id, floor(%s * random() ^ 3)::int AS ti
                          FROM bench_user u CROSS JOIN generate_series(1, 20)) AS p
                  JOIN bench_track t ON t.i = p.ti
              ) AS picks
            """,
            [n_tracks],
        )
        cursor.execute(
            "SELECT (SELECT count(*) FROM history_interaction), (SELECT count(*) FROM"
            " history_opinion), (SELECT count(*) FROM history_historyentry)"
        )
        counts = cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"data written in {time.perf_counter() - started:.1f} s: {n_tracks:,} tracks, "
        f"{listeners:,} listeners, {counts[0]:,} interactions, {counts[1]:,} opinions, "
        f"{counts[2]:,} history entries"
    )


def _median_ms(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--listeners", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2, help="refreshes with nothing new")
    parser.add_argument("--new-plays", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not args.catalog.is_file():
        parser.error(f"{args.catalog} is not a file")
    _setup(args.catalog)
    _populate(args.listeners, args.events)

    import numpy as np
    from django.db import connection

    from catalog.models import Track
    from recommendations.selectors.popularity import (
        cohort_tables,
        popularity_generation,
        trending_scores,
        trending_tracks,
    )
    from recommendations.services.popularity import refresh_popularity

    def report(label: str) -> None:
        summary = refresh_popularity()
        print(
            f"refresh, {label}: {summary.seconds:.1f} s — "
            + ", ".join(
                f"{view} {summary.rows[view]:,} rows ({summary.written[view]:,} written)"
                for view in summary.rows
            ),
            flush=True,
        )

    report("first (every row new)")
    for _ in range(args.runs):
        report("nothing changed")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO history_interaction (user_id, track_id, kind, occurred_at, recorded_at,
                listened_ms, mood, activity)
            SELECT u.id, t.id, 'play', now(), now(), NULL, '', ''
              FROM (SELECT id, row_number() OVER (ORDER BY random()) AS n
                      FROM accounts_user LIMIT %(plays)s) AS u
              JOIN (SELECT id, row_number() OVER (ORDER BY random()) AS n
                      FROM catalog_track LIMIT %(plays)s) AS t USING (n)
            """,
            {"plays": args.new_plays},
        )
    report(f"after {args.new_plays:,} new plays")
    with connection.cursor() as cursor:
        # what a new day does to the views (every score's reference moves): all rows change
        for table, column in (
            ("history_interaction", "occurred_at"),
            ("history_opinion", "updated_at"),
            ("history_historyentry", "added_at"),
        ):
            cursor.execute(f"UPDATE {table} SET {column} = {column} - interval '1 hour'")
    report("every score changed (the day's first refresh)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('popular_tracks')),"
            " pg_size_pretty(pg_total_relation_size('demographic_popularity')),"
            " (SELECT count(DISTINCT (level, age_band, country, gender, occupation))"
            "    FROM demographic_popularity)"
        )
        sizes = cursor.fetchone()
    print(f"sizes with indexes: popular_tracks {sizes[0]}, demographic_popularity {sizes[1]}")
    track_ids = np.array(sorted(Track.objects.values_list("id", flat=True)), dtype=np.int64)
    tables = cohort_tables(track_ids=track_ids)
    print(
        f"cohorts: {sizes[2]:,} in the view; loaded with >= 20 members: "
        + ", ".join(f"{'+'.join(t.fields)} {len(t.keys)}" for t in tables)
    )
    timings = {
        "popularity_generation": _median_ms(popularity_generation, args.repeat),
        "trending_scores": _median_ms(lambda: trending_scores(track_ids=track_ids), args.repeat),
        "cohort_tables (>= 20 members)": _median_ms(
            lambda: cohort_tables(track_ids=track_ids), args.repeat
        ),
        "cohort_tables (every cohort of the view)": _median_ms(
            lambda: cohort_tables(track_ids=track_ids, min_members=1), args.repeat
        ),
        "trending_tracks (overall, 50)": _median_ms(
            lambda: trending_tracks(genre_id=None, limit=50), args.repeat
        ),
        "trending_tracks (a genre, 50)": _median_ms(
            lambda: trending_tracks(genre_id=1, limit=50), args.repeat
        ),
    }
    print(f"selectors, median of {args.repeat} calls:")
    for name, ms in timings.items():
        print(f"  {name}: {ms:.2f} ms")


if __name__ == "__main__":
    main()
