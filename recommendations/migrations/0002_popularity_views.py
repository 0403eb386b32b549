"""The popularity and demographic materialized views, and the refresh state they share.

What is created (docs/recommendations.md tells the story):

- ``recommendations_popularity_cell`` (a plain view): one row per active listener × track with
  a positive signal in the last ``WINDOW_DAYS``, its time-decayed weight capped at ``CELL_CAP``.
  Both materialized views read it, so the weights are written once.
- ``popular_tracks``: per track, overall (``genre_id`` 0) and per genre (top ``GENRE_TOP_N``
  tracks of each genre), the decayed score and counts. Unique index (genre_id, track_id).
- ``demographic_popularity``: per cohort at three levels (4: age band + country + gender +
  occupation, 2: age band + country, 1: age band) of at least ``COHORT_MIN_MEMBERS`` listeners,
  the cohort's top ``COHORT_TOP_N`` tracks and its member count. Unique index (level, age_band,
  country, gender, occupation, track_id).
- ``recommendations_popularity_refresh``: one row, the refresh generation (from a sequence, so
  a value is never reused even after a rollback), when and how long the last refresh took and
  the views' sizes. ``recommendations.services.popularity`` writes it, the selectors and
  ``/metrics`` read it.

The constants below are the SQL's: a materialized view's query is fixed when it is created, so
changing one is a new migration that drops and re-creates the views (the settings cannot change
them). Both views are created WITH DATA: ``REFRESH … CONCURRENTLY`` refuses a view that was
never populated.

Names are schema-qualified: PostgreSQL 17+ runs a refresh with a search_path of pg_catalog only.
A later migration that alters a column these views read (history_interaction.kind, say) must
drop and re-create them: PostgreSQL refuses to change a column a view depends on.
"""

from django.db import migrations

# Events count for WINDOW_DAYS, each halved every half-life (trending: 14 days, so the list
# follows the last weeks; a cohort's taste: 30 days, as cohorts are small and their taste moves
# slower than the trend). Older events are out.
WINDOW_DAYS = 90
TREND_HALF_LIFE_DAYS = 14
TASTE_HALF_LIFE_DAYS = 30

# Weights per event, in "full plays", taken from the engine's ConfidenceWeights
# (recommendations/engine/matrix.py) when this view was written; they do not follow later
# tuning of those. A play counts its listened share (listened_ms / duration, clipped to 0..1;
# unknown: a full play). A like is the listener's current like (history_opinion, at the time it
# was given), so liking a track twice, or like → dislike → like, counts once. A history entry is
# a track the listener picked to describe their taste (at the time it was added). Skips and
# dislikes are not popularity: they add nothing (and subtract nothing).
PLAY_WEIGHT = 1.0
ADD_TO_PLAYLIST_WEIGHT = 1.5
LIKE_WEIGHT = 2.0
HISTORY_WEIGHT = 2.0
# The most one listener adds to one track (two likes' worth, ConfidenceWeights.cap): a listener
# replaying a track 200 times is one enthusiastic listener, not a trend.
CELL_CAP = 4.0

# Rows kept: the top N tracks of each genre and of each cohort (the overall rows are every track
# with a positive score, at most the catalog).
GENRE_TOP_N = 500
COHORT_TOP_N = 200
# Cohorts of fewer listeners are left out. Their favourites would be one or two people's
# listening, shown to strangers as "popular with listeners like you" (a privacy leak), and the
# predictor does not trust a cohort below RECOMMENDER["predictors"]["min_cohort_size"] (20,
# which must stay >= this) anyway. Most finest-level cohorts are this small: at 10,000 listeners
# and 1M events their rows were 85 % of the view (345k rows without this floor, 52k with it).
COHORT_MIN_MEMBERS = 5

SECONDS_PER_DAY = 86_400


# Scores are decayed to the start of the refresh's day (00:00 UTC), not to the moment of the
# refresh: every score then is the score "now" times the same factor (the ranking is the same),
# and a row changes only when events of its own arrive. REFRESH CONCURRENTLY applies a diff, so
# the refresh every 15 minutes writes the few rows that changed (~4k of 200k after 1,000 new
# plays) instead of every row of both views (WAL, dead rows, index churn), and a refresh that
# changed nothing keeps the generation (web processes keep their caches). The first refresh of a
# day moves the reference and the window and rewrites everything. An event of today counts a
# little more than 1 (at most 2^(1/14) ≈ 1.05 after a full day).
REFERENCE = "date_trunc('day', now(), 'UTC')"


def _decay(half_life_days: int) -> str:
    return (
        f"power(0.5::float8, extract(epoch FROM {REFERENCE} - e.at)::float8"
        f" / {half_life_days * SECONDS_PER_DAY}.0)"
    )


def _rounded(expression: str) -> str:
    """A sum of floats rounded to 9 decimals: parallel aggregation adds in no fixed order, and
    the last bits of an unchanged score must not differ from one refresh to the next (the
    concurrent refresh would rewrite the row)."""
    return f"round(({expression})::numeric, 9)::float8"


CREATE_CELLS = f"""
CREATE VIEW public.recommendations_popularity_cell AS
WITH events AS (
    SELECT i.user_id, i.track_id, i.occurred_at AS at,
           CASE WHEN i.kind = 'play'
                THEN {PLAY_WEIGHT}::float8
                     * COALESCE(LEAST(i.listened_ms::float8 / NULLIF(t.duration_ms, 0), 1.0), 1.0)
                ELSE {ADD_TO_PLAYLIST_WEIGHT}::float8 END AS weight,
           (i.kind = 'play')::int AS play,
           0 AS liked
      FROM public.history_interaction i
      JOIN public.catalog_track t ON t.id = i.track_id
     WHERE i.kind IN ('play', 'add_to_playlist')
       AND i.occurred_at >= {REFERENCE} - interval '{WINDOW_DAYS} days'
    UNION ALL
    SELECT o.user_id, o.track_id, o.updated_at, {LIKE_WEIGHT}::float8, 0, 1
      FROM public.history_opinion o
     WHERE o.value = 'like' AND o.updated_at >= {REFERENCE} - interval '{WINDOW_DAYS} days'
    UNION ALL
    SELECT h.user_id, h.track_id, h.added_at, {HISTORY_WEIGHT}::float8, 0, 0
      FROM public.history_historyentry h
     WHERE h.added_at >= {REFERENCE} - interval '{WINDOW_DAYS} days'
)
SELECT e.user_id,
       e.track_id,
       LEAST(sum(e.weight * {_decay(TREND_HALF_LIFE_DAYS)}), {CELL_CAP}::float8) AS trend,
       LEAST(sum(e.weight * {_decay(TASTE_HALF_LIFE_DAYS)}), {CELL_CAP}::float8) AS taste,
       sum(e.play)::int AS plays,
       sum(e.liked)::int AS likes
  FROM events e
  JOIN public.accounts_user u ON u.id = e.user_id
 WHERE u.is_active
 GROUP BY e.user_id, e.track_id
HAVING sum(e.weight) > 0;
"""

CREATE_POPULAR_TRACKS = f"""
CREATE MATERIALIZED VIEW public.popular_tracks AS
WITH per_track AS (
    SELECT c.track_id,
           {_rounded("sum(c.trend)")} AS score,
           sum(c.plays)::int AS plays,
           sum(c.likes)::int AS likes,
           count(*)::int AS listeners
      FROM public.recommendations_popularity_cell c
     GROUP BY c.track_id
), per_genre AS (
    SELECT tg.genre_id, p.track_id, p.score, p.plays, p.likes, p.listeners,
           row_number() OVER (PARTITION BY tg.genre_id ORDER BY p.score DESC, p.track_id) AS rank
      FROM per_track p
      JOIN public.catalog_track_genres tg ON tg.track_id = p.track_id
)
SELECT 0::bigint AS genre_id, p.track_id, p.score, p.plays, p.likes, p.listeners
  FROM per_track p
UNION ALL
SELECT g.genre_id, g.track_id, g.score, g.plays, g.likes, g.listeners
  FROM per_genre g
 WHERE g.rank <= {GENRE_TOP_N}
WITH DATA;
CREATE UNIQUE INDEX popular_tracks_genre_track ON public.popular_tracks (genre_id, track_id);
CREATE INDEX popular_tracks_genre_score
    ON public.popular_tracks (genre_id, score DESC, track_id);
"""

# The labels are recommendations.engine.data.AGE_BANDS' (en dashes), the keys the engine's
# ListenerProfile.demographics holds; tests/recommendations/test_popularity_views.py checks the
# boundaries against the engine's age_band().
CREATE_DEMOGRAPHIC_POPULARITY = f"""
CREATE MATERIALIZED VIEW public.demographic_popularity AS
WITH listener AS (
    SELECT u.id,
           CASE WHEN u.age >= 65 THEN '65+'
                WHEN u.age >= 55 THEN '55–64'
                WHEN u.age >= 45 THEN '45–54'
                WHEN u.age >= 35 THEN '35–44'
                WHEN u.age >= 25 THEN '25–34'
                WHEN u.age >= 18 THEN '18–24'
                ELSE '13–17' END AS age_band,
           u.country::text AS country,
           u.gender::text AS gender,
           u.occupation::text AS occupation
      FROM public.accounts_user u
     WHERE u.is_active AND u.age >= 13
), membership AS (
    SELECT id AS user_id, 4 AS level, age_band, country, gender, occupation
      FROM listener
     WHERE country <> '' AND gender <> '' AND occupation <> ''
    UNION ALL
    SELECT id, 2, age_band, country, '', '' FROM listener WHERE country <> ''
    UNION ALL
    SELECT id, 1, age_band, '', '', '' FROM listener
), keyed AS (
    -- each membership with its cohort's number and size, computed over the memberships (a
    -- join on the five key columns instead is estimated at one row, and the planner then
    -- re-aggregates the cells once per membership in a nested loop)
    SELECT user_id, level, age_band, country, gender, occupation,
           dense_rank() OVER (ORDER BY level, age_band, country, gender, occupation) AS cohort_id,
           count(*) OVER (PARTITION BY level, age_band, country, gender, occupation) AS members
      FROM membership
), member AS (
    -- the heavy part (every listener's cells, at three levels) groups and sorts by integers
    SELECT user_id, cohort_id FROM keyed WHERE members >= {COHORT_MIN_MEMBERS}
), cohort AS (
    SELECT DISTINCT cohort_id, level, age_band, country, gender, occupation, members::int
      FROM keyed
     WHERE members >= {COHORT_MIN_MEMBERS}
), ranked AS (
    SELECT m.cohort_id, c.track_id,
           {_rounded("sum(c.taste)")} AS score,
           sum(c.plays)::int AS plays,
           sum(c.likes)::int AS likes,
           count(*)::int AS listeners,
           row_number() OVER (PARTITION BY m.cohort_id
                                  ORDER BY {_rounded("sum(c.taste)")} DESC, c.track_id) AS rank
      FROM member m
      JOIN public.recommendations_popularity_cell c ON c.user_id = m.user_id
     GROUP BY m.cohort_id, c.track_id
)
SELECT co.level::smallint AS level, co.age_band, co.country, co.gender, co.occupation,
       r.track_id, r.score, r.plays, r.likes, r.listeners, co.members
  FROM ranked r
  JOIN cohort co USING (cohort_id)
 WHERE r.rank <= {COHORT_TOP_N}
WITH DATA;
CREATE UNIQUE INDEX demographic_popularity_cohort_track
    ON public.demographic_popularity (level, age_band, country, gender, occupation, track_id);
CREATE INDEX demographic_popularity_members ON public.demographic_popularity (members);
"""

CREATE_REFRESH_STATE = f"""
CREATE SEQUENCE public.recommendations_popularity_generation;
CREATE TABLE public.recommendations_popularity_refresh (
    id smallint PRIMARY KEY CHECK (id = 1),
    generation bigint NOT NULL,
    refreshed_at timestamptz NOT NULL,
    scored_at timestamptz NOT NULL,
    seconds double precision NOT NULL,
    popular_tracks_rows bigint NOT NULL,
    demographic_popularity_rows bigint NOT NULL
);
INSERT INTO public.recommendations_popularity_refresh
SELECT 1, nextval('public.recommendations_popularity_generation'), now(), {REFERENCE}, 0,
       (SELECT count(*) FROM public.popular_tracks),
       (SELECT count(*) FROM public.demographic_popularity);
"""

DROP_ALL = """
DROP TABLE IF EXISTS public.recommendations_popularity_refresh;
DROP SEQUENCE IF EXISTS public.recommendations_popularity_generation;
DROP MATERIALIZED VIEW IF EXISTS public.demographic_popularity;
DROP MATERIALIZED VIEW IF EXISTS public.popular_tracks;
DROP VIEW IF EXISTS public.recommendations_popularity_cell;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0001_initial"),
        ("accounts", "0003_username_without_at"),
        ("catalog", "0005_search_term_fastupdate_off"),
        ("history", "0005_listen_import_over_limit"),
    ]

    operations = [
        migrations.RunSQL(
            CREATE_CELLS
            + CREATE_POPULAR_TRACKS
            + CREATE_DEMOGRAPHIC_POPULARITY
            + CREATE_REFRESH_STATE,
            DROP_ALL,
        ),
    ]
