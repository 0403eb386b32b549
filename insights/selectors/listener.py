"""A listener's insights: the figures behind ``/insights/`` and ``GET /api/v1/me/insights/``.

One call, :func:`listener_insights`, reads everything both show (the page and the API serialise
the same :class:`ListenerInsights`, so their numbers cannot differ). Every figure is an
aggregate computed in PostgreSQL over one listener's rows, bounded by the window (the last
``RECOMMENDER["insights"]["window_days"]`` (90) days *of the listener's calendar*: today and the
89 days before it, in their time zone), through the listener-time indexes
(``history_inter_user_time``, ``recs_impression_user_time``; the history (≤ 50 rows) and the
opinions are read by listener). Python only fills gaps (days and hours with no play) and picks
the top genres. Definitions (``docs/insights.md`` says the same for people):

- **plays**: ``play`` interactions, live and imported alike (an imported listen keeps its
  original time, so it lands on the day it was heard);
- **genres**: a track with *k* genres gives 1/*k* to each, so shares add up to 100 %; tracks
  without a genre are left out of the shares;
- **feature profile**: the weighted mean of the audio features of the listener's tracks: each
  history entry and each liked track weighs ``history_weight`` / ``liked_weight`` (2), each
  play of the window 1 (what they chose and liked counts, what they actually play counts
  most when they play a lot). Tempo is scaled to 0–1 linearly from 40 BPM (0) to 220 BPM (1),
  clipped; a tempo of 0 (none detected) is unknown. The **platform average** is the mean of
  every listener's profile (each listener once, however much they play), computed by the same
  SQL over all listeners and cached for ``platform_cache_seconds`` (an hour);
- **brought by recommendations**: a track the listener first met in a served list (an
  impression of the window served it, and no interaction or history entry of theirs with it
  is older than the first list that served it) and afterwards liked, added to the history or
  added to a playlist.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from accounts.models import User
from catalog.models import Artist, Genre, Track, TrackArtist
from history.models import HistoryEntry, Interaction, Opinion
from recommendations.models import Impression

#: the audio features of the profile, in the order the page shows them
PROFILE_FEATURES = (
    "energy",
    "valence",
    "danceability",
    "acousticness",
    "instrumentalness",
    "speechiness",
    "liveness",
    "tempo",
)
#: tempo's scaling to 0–1: (bpm - TEMPO_LOW) / (TEMPO_HIGH - TEMPO_LOW), clipped. 40–220 BPM
#: holds nearly every real track (largo to drum and bass); 0 is "no tempo detected".
TEMPO_LOW = 40.0
TEMPO_HIGH = 220.0

DEFAULTS: dict[str, Any] = {
    "window_days": 90,
    "period_days": 30,
    "top": 10,
    "genres_shown": 8,
    "history_weight": 2.0,
    "liked_weight": 2.0,
    "platform_cache_seconds": 3600,
    "brought_listed": 20,
}

PLATFORM_CACHE_KEY = "insights:platform-profile:v1"


def options() -> dict[str, Any]:
    """``RECOMMENDER["insights"]`` over the defaults."""
    return {**DEFAULTS, **settings.RECOMMENDER.get("insights", {})}


# ---- the window --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The listener's last ``len(days)`` calendar days in their time zone ``tz``: from the
    local midnight that starts ``days[0]`` (``start``) to ``end`` (now)."""

    tz: ZoneInfo
    days: tuple[dt.date, ...]
    start: dt.datetime
    end: dt.datetime

    @property
    def tz_name(self) -> str:
        return self.tz.key


def listener_window(*, user: User, now: dt.datetime, days: int) -> Window:
    tz = ZoneInfo(user.time_zone or settings.TIME_ZONE)
    today = now.astimezone(tz).date()
    first = today - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    return Window(
        tz=tz,
        days=tuple(first + dt.timedelta(days=offset) for offset in range(days)),
        start=start,
        end=now,
    )


# ---- the figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    plays: int  # plays in the window
    imported_plays: int  # of which imported
    history: int  # history entries now
    liked: int  # tracks liked now


@dataclass(frozen=True)
class Share:
    name: str
    share: float  # 0–1
    tracks: float  # the tracks it stands for (fractional: a track with k genres gives 1/k)


@dataclass(frozen=True)
class GenreShares:
    history: list[Share]  # most first
    liked: list[Share]
    history_tracks: int  # tracks with at least one genre
    liked_tracks: int


@dataclass(frozen=True)
class GenrePeriod:
    start: dt.date
    end: dt.date  # inclusive
    plays: int
    genres: dict[str, float]  # genre → plays (fractional)


@dataclass(frozen=True)
class FeatureProfile:
    """Features 0–1 (``None``: no track with that feature known); ``tempo_bpm``: the mean
    tempo itself; ``tracks``: how many weighted rows it stands on (listeners: how many
    listeners' profiles were averaged; 1 for one listener)."""

    features: dict[str, float | None]
    tempo_bpm: float | None
    listeners: int


@dataclass(frozen=True)
class Count:
    id: int
    name: str
    plays: int
    detail: str = ""  # a track's artists


@dataclass(frozen=True)
class BroughtTrack:
    track_id: int
    title: str
    artists: str
    first_served: dt.datetime
    liked: bool
    in_history: bool
    in_playlist: bool


@dataclass(frozen=True)
class Brought:
    count: int
    liked: int  # of them, liked now
    tracks: list[BroughtTrack]  # the most recently met first, at most ``brought_listed``


@dataclass(frozen=True)
class ListenerInsights:
    generated_at: dt.datetime
    time_zone: str
    window_days: int
    window_start: dt.date
    totals: Totals
    genres: GenreShares
    genre_periods: list[GenrePeriod]
    profile: FeatureProfile
    platform: FeatureProfile
    plays_per_day: list[tuple[dt.date, int]]
    plays_per_hour: list[int]  # 24 counts, local hours 0–23
    top_artists: list[Count]
    top_tracks: list[Count]
    brought: Brought

    @property
    def is_empty(self) -> bool:
        """Nothing at all to show: a brand-new listener."""
        return not (self.totals.plays or self.totals.history or self.totals.liked)

    @property
    def liked_share_brought(self) -> float | None:
        return self.brought.liked / self.totals.liked if self.totals.liked else None


def listener_insights(*, user: User, now: dt.datetime | None = None) -> ListenerInsights:
    """Every figure of ``user``'s insights at ``now`` (default: now). About eight queries (one
    more when the platform profile is not cached)."""
    now = now or timezone.now()
    opts = options()
    window = listener_window(user=user, now=now, days=int(opts["window_days"]))
    days, hours = plays_by_day_and_hour(user=user, window=window)
    return ListenerInsights(
        generated_at=now,
        time_zone=window.tz_name,
        window_days=len(window.days),
        window_start=window.days[0],
        totals=listener_totals(user=user, window=window),
        genres=genre_shares(user=user),
        genre_periods=genre_periods(user=user, window=window, period_days=int(opts["period_days"])),
        profile=feature_profile(user=user, since=window.start, until=window.end),
        platform=platform_feature_profile(now=now),
        plays_per_day=days,
        plays_per_hour=hours,
        top_artists=top_artists(user=user, window=window, limit=int(opts["top"])),
        top_tracks=top_tracks(user=user, window=window, limit=int(opts["top"])),
        brought=brought_by_recommendations(
            user=user, window=window, listed=int(opts["brought_listed"])
        ),
    )


# ---- the selectors -----------------------------------------------------------------------------


def _fetchall(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _tables() -> dict[str, str]:
    return {
        "interaction": Interaction._meta.db_table,
        "history": HistoryEntry._meta.db_table,
        "opinion": Opinion._meta.db_table,
        "track": Track._meta.db_table,
        "track_genre": Track.genres.through._meta.db_table,
        "genre": Genre._meta.db_table,
        "track_artist": TrackArtist._meta.db_table,
        "artist": Artist._meta.db_table,
        "impression": Impression._meta.db_table,
    }


def listener_totals(*, user: User, window: Window) -> Totals:
    t = _tables()
    sql = f"""
        SELECT
          (SELECT count(*) FROM {t["interaction"]} WHERE user_id = %s AND kind = 'play'
             AND occurred_at >= %s AND occurred_at <= %s),
          (SELECT count(*) FROM {t["interaction"]} WHERE user_id = %s AND kind = 'play'
             AND occurred_at >= %s AND occurred_at <= %s AND listen_import_id IS NOT NULL),
          (SELECT count(*) FROM {t["history"]} WHERE user_id = %s),
          (SELECT count(*) FROM {t["opinion"]} WHERE user_id = %s AND value = 'like')
    """
    span = [user.pk, window.start, window.end]
    ((plays, imported, history, liked),) = _fetchall(sql, [*span, *span, user.pk, user.pk])
    return Totals(plays=plays, imported_plays=imported, history=history, liked=liked)


def genre_shares(*, user: User) -> GenreShares:
    """Genre shares of the history and of the liked tracks (as they are now)."""
    t = _tables()
    sql = f"""
        WITH source AS (
            SELECT 'history' AS source, track_id FROM {t["history"]} WHERE user_id = %s
            UNION ALL
            SELECT 'liked', track_id FROM {t["opinion"]} WHERE user_id = %s AND value = 'like'
        ), weighted AS (
            SELECT s.source, s.track_id, tg.genre_id,
                   1.0 / count(*) OVER (PARTITION BY s.source, s.track_id) AS weight
            FROM source AS s JOIN {t["track_genre"]} AS tg ON tg.track_id = s.track_id
        )
        SELECT w.source, g.name, sum(w.weight)::double precision
        FROM weighted AS w JOIN {t["genre"]} AS g ON g.id = w.genre_id
        GROUP BY w.source, g.name
    """
    sums: dict[str, dict[str, float]] = {"history": {}, "liked": {}}
    for source, name, weight in _fetchall(sql, [user.pk, user.pk]):
        sums[source][name] = weight

    def shares(by_genre: dict[str, float]) -> tuple[list[Share], int]:
        total = sum(by_genre.values())
        ordered = sorted(by_genre.items(), key=lambda item: (-item[1], item[0]))
        return [Share(name, weight / total, weight) for name, weight in ordered], round(total)

    history, history_tracks = shares(sums["history"])
    liked, liked_tracks = shares(sums["liked"])
    return GenreShares(
        history=history, liked=liked, history_tracks=history_tracks, liked_tracks=liked_tracks
    )


def genre_periods(*, user: User, window: Window, period_days: int) -> list[GenrePeriod]:
    """Plays per genre in consecutive periods of ``period_days`` local days of the window, the
    oldest first (with 90 days and 30: three periods); a play's genres share it (1/k each)."""
    t = _tables()
    first = window.days[0]
    sql = f"""
        WITH play AS (
            SELECT e.id, e.track_id,
                   ((e.occurred_at AT TIME ZONE %s)::date - %s::date) / %s AS period
            FROM {t["interaction"]} AS e
            WHERE e.user_id = %s AND e.kind = 'play' AND e.occurred_at >= %s
              AND e.occurred_at <= %s
        ), counted AS (
            SELECT period, count(*) AS plays FROM play GROUP BY period
        ), weighted AS (
            SELECT p.period, tg.genre_id,
                   1.0 / count(*) OVER (PARTITION BY p.id) AS weight
            FROM play AS p JOIN {t["track_genre"]} AS tg ON tg.track_id = p.track_id
        )
        SELECT c.period, c.plays, g.name, sum(w.weight)::double precision
        FROM counted AS c
        LEFT JOIN weighted AS w ON w.period = c.period
        LEFT JOIN {t["genre"]} AS g ON g.id = w.genre_id
        GROUP BY c.period, c.plays, g.name
    """
    params = [window.tz_name, first, period_days, user.pk, window.start, window.end]
    plays: dict[int, int] = {}
    genres: dict[int, dict[str, float]] = defaultdict(dict)
    for period, count, name, weight in _fetchall(sql, params):
        plays[period] = count
        if name is not None:
            genres[period][name] = weight
    periods = []
    count_of_periods = -(-len(window.days) // period_days)
    for index in range(count_of_periods):
        start = first + dt.timedelta(days=index * period_days)
        end = min(start + dt.timedelta(days=period_days - 1), window.days[-1])
        periods.append(
            GenrePeriod(
                start=start, end=end, plays=plays.get(index, 0), genres=dict(genres.get(index, {}))
            )
        )
    return periods


def plays_by_day_and_hour(
    *, user: User, window: Window
) -> tuple[list[tuple[dt.date, int]], list[int]]:
    """Plays per local day of the window (every day, zeros filled) and per local hour 0–23."""
    t = _tables()
    sql = f"""
        SELECT (e.occurred_at AT TIME ZONE %s)::date AS day,
               extract(hour FROM e.occurred_at AT TIME ZONE %s)::int AS hour,
               count(*)
        FROM {t["interaction"]} AS e
        WHERE e.user_id = %s AND e.kind = 'play' AND e.occurred_at >= %s AND e.occurred_at <= %s
        GROUP BY 1, 2
    """
    params = [window.tz_name, window.tz_name, user.pk, window.start, window.end]
    per_day: dict[dt.date, int] = defaultdict(int)
    per_hour = [0] * 24
    for day, hour, count in _fetchall(sql, params):
        per_day[day] += count
        per_hour[hour] += count
    return [(day, per_day.get(day, 0)) for day in window.days], per_hour


def _profile_sql(*, one_listener: bool) -> str:
    t = _tables()
    who = "AND user_id = %s" if one_listener else ""
    # GREATEST and LEAST ignore NULLs: an unknown tempo must stay NULL, not become 0
    scaled = f"LEAST(GREATEST((t.tempo - {TEMPO_LOW}) / {TEMPO_HIGH - TEMPO_LOW}, 0), 1)"
    tempo = f"CASE WHEN t.tempo > 0 THEN {scaled} END"
    columns = {name: f"t.{name}" for name in PROFILE_FEATURES if name != "tempo"}
    columns["tempo"] = tempo
    columns["tempo_bpm"] = "NULLIF(t.tempo, 0)"
    per_listener = ",\n".join(
        f"sum(r.weight * {expression}) / NULLIF(sum(r.weight) FILTER "
        f"(WHERE {expression} IS NOT NULL), 0) AS {name}"
        for name, expression in columns.items()
    )
    averaged = ", ".join(f"avg(p.{name})::double precision" for name in columns)
    return f"""
        WITH rows AS (
            SELECT user_id, track_id, %s::double precision AS weight
              FROM {t["history"]} WHERE TRUE {who}
            UNION ALL
            SELECT user_id, track_id, %s::double precision
              FROM {t["opinion"]} WHERE value = 'like' {who}
            UNION ALL
            SELECT user_id, track_id, 1.0::double precision
              FROM {t["interaction"]}
             WHERE kind = 'play' AND occurred_at >= %s AND occurred_at <= %s {who}
        ), per_listener AS (
            SELECT r.user_id, {per_listener}
            FROM rows AS r JOIN {t["track"]} AS t ON t.id = r.track_id
            GROUP BY r.user_id
        )
        SELECT {averaged}, count(*) FROM per_listener AS p
    """


def _profile(row: tuple[Any, ...]) -> FeatureProfile:
    values = list(row)
    listeners = int(values.pop())
    tempo_bpm = values.pop()
    return FeatureProfile(
        features=dict(zip(PROFILE_FEATURES, values, strict=True)),
        tempo_bpm=tempo_bpm,
        listeners=listeners,
    )


def feature_profile(*, user: User, since: dt.datetime, until: dt.datetime) -> FeatureProfile:
    """The listener's audio-feature profile: history and liked tracks (weighted as the module
    says) and the plays of ``[since, until]``."""
    opts = options()
    who = [user.pk]
    params: list[Any] = [opts["history_weight"], *who, opts["liked_weight"], *who]
    params += [since, until, *who]
    ((*row,),) = _fetchall(_profile_sql(one_listener=True), params)
    return _profile(tuple(row))


def platform_feature_profile(*, now: dt.datetime) -> FeatureProfile:
    """The mean of every listener's profile (their plays of the last ``window_days`` days up to
    ``now``), each listener once; cached for ``platform_cache_seconds``."""
    cached = cache.get(PLATFORM_CACHE_KEY)
    if isinstance(cached, FeatureProfile):
        return cached
    opts = options()
    since = now - dt.timedelta(days=int(opts["window_days"]))
    params = [opts["history_weight"], opts["liked_weight"], since, now]
    ((*row,),) = _fetchall(_profile_sql(one_listener=False), params)
    profile = _profile(tuple(row))
    cache.set(PLATFORM_CACHE_KEY, profile, int(opts["platform_cache_seconds"]))
    return profile


def top_artists(*, user: User, window: Window, limit: int) -> list[Count]:
    """The most played artists of the window (a play counts for every artist of its track)."""
    t = _tables()
    sql = f"""
        SELECT a.id, a.name, count(*) AS plays
        FROM {t["interaction"]} AS e
        JOIN {t["track_artist"]} AS ta ON ta.track_id = e.track_id
        JOIN {t["artist"]} AS a ON a.id = ta.artist_id
        WHERE e.user_id = %s AND e.kind = 'play' AND e.occurred_at >= %s AND e.occurred_at <= %s
        GROUP BY a.id, a.name
        ORDER BY plays DESC, a.name, a.id
        LIMIT %s
    """
    rows = _fetchall(sql, [user.pk, window.start, window.end, limit])
    return [Count(id=id_, name=name, plays=plays) for id_, name, plays in rows]


def _artists_of(track: str) -> str:
    t = _tables()
    return f"""(
        SELECT string_agg(a.name, ', ' ORDER BY ta.position, a.name)
        FROM {t["track_artist"]} AS ta JOIN {t["artist"]} AS a ON a.id = ta.artist_id
        WHERE ta.track_id = {track}
    )"""


def top_tracks(*, user: User, window: Window, limit: int) -> list[Count]:
    """The most played tracks of the window, with their artists."""
    t = _tables()
    sql = f"""
        WITH counted AS (
            SELECT e.track_id, count(*) AS plays
            FROM {t["interaction"]} AS e
            WHERE e.user_id = %s AND e.kind = 'play' AND e.occurred_at >= %s
              AND e.occurred_at <= %s
            GROUP BY e.track_id
            ORDER BY plays DESC, e.track_id
            LIMIT %s
        )
        SELECT c.track_id, tr.title, c.plays, COALESCE({_artists_of("c.track_id")}, '')
        FROM counted AS c JOIN {t["track"]} AS tr ON tr.id = c.track_id
        ORDER BY c.plays DESC, tr.title, c.track_id
    """
    rows = _fetchall(sql, [user.pk, window.start, window.end, limit])
    return [
        Count(id=id_, name=title, plays=plays, detail=artists)
        for id_, title, plays, artists in rows
    ]


def brought_by_recommendations(*, user: User, window: Window, listed: int) -> Brought:
    """Tracks the recommendations brought: first met in a list served in the window, then
    liked (a like event, or an opinion set, after it was first served), added to the history,
    or added to a playlist. A track the listener met before its first serving (any interaction
    or history entry older than it) does not count."""
    t = _tables()
    sql = f"""
        WITH served AS (
            SELECT (item->>'track_id')::bigint AS track_id, min(i.served_at) AS first_served
            FROM {t["impression"]} AS i
            CROSS JOIN LATERAL jsonb_array_elements(i.items) AS item
            WHERE i.user_id = %(user)s AND i.served_at >= %(since)s AND i.served_at <= %(until)s
            GROUP BY 1
        ), new AS (
            SELECT s.track_id, s.first_served FROM served AS s
            WHERE NOT EXISTS (
                SELECT 1 FROM {t["interaction"]} AS e
                WHERE e.user_id = %(user)s AND e.track_id = s.track_id
                  AND e.occurred_at < s.first_served)
              AND NOT EXISTS (
                SELECT 1 FROM {t["history"]} AS h
                WHERE h.user_id = %(user)s AND h.track_id = s.track_id
                  AND h.added_at < s.first_served)
        ), kept AS (
            SELECT n.track_id, n.first_served,
                EXISTS (
                    SELECT 1 FROM {t["interaction"]} AS e
                    WHERE e.user_id = %(user)s AND e.track_id = n.track_id AND e.kind = 'like'
                      AND e.occurred_at >= n.first_served)
                OR EXISTS (
                    SELECT 1 FROM {t["opinion"]} AS o
                    WHERE o.user_id = %(user)s AND o.track_id = n.track_id AND o.value = 'like'
                      AND o.updated_at >= n.first_served) AS liked,
                EXISTS (
                    SELECT 1 FROM {t["opinion"]} AS o
                    WHERE o.user_id = %(user)s AND o.track_id = n.track_id
                      AND o.value = 'like') AS liked_now,
                EXISTS (
                    SELECT 1 FROM {t["history"]} AS h
                    WHERE h.user_id = %(user)s AND h.track_id = n.track_id
                      AND h.added_at >= n.first_served) AS in_history,
                EXISTS (
                    SELECT 1 FROM {t["interaction"]} AS e
                    WHERE e.user_id = %(user)s AND e.track_id = n.track_id
                      AND e.kind = 'add_to_playlist' AND e.occurred_at >= n.first_served
                ) AS in_playlist
            FROM new AS n
        ), brought AS (
            SELECT * FROM kept WHERE liked OR in_history OR in_playlist
        )
        SELECT b.track_id, tr.title, COALESCE({_artists_of("b.track_id")}, ''), b.first_served,
               b.liked, b.in_history, b.in_playlist,
               count(*) OVER () AS brought,
               count(*) FILTER (WHERE b.liked_now) OVER () AS liked_now
        FROM brought AS b JOIN {t["track"]} AS tr ON tr.id = b.track_id
        ORDER BY b.first_served DESC, b.track_id
        LIMIT %(listed)s
    """
    params: dict[str, int | dt.datetime] = {
        "user": user.pk,
        "since": window.start,
        "until": window.end,
        "listed": listed,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return Brought(count=0, liked=0, tracks=[])
    return Brought(
        count=rows[0][7],
        liked=rows[0][8],
        tracks=[
            BroughtTrack(
                track_id=row[0],
                title=row[1],
                artists=row[2],
                first_served=row[3],
                liked=row[4],
                in_history=row[5],
                in_playlist=row[6],
            )
            for row in rows
        ],
    )
