"""The platform's figures for the staff dashboard (``/staff/insights/``): activity, interactions
by kind, popular tracks and genres over time, imports and sign-up cohorts.

Every figure is an aggregate computed in PostgreSQL over a bounded window; days and weeks are
UTC (one cached answer serves every staff member, whatever their time zone), weeks start on
Monday (``date_trunc('week')``).

Costs: the interaction windows are read through the ``recorded_at`` index
(``history_inter_recorded``). Plays are filtered by ``occurred_at`` for "over time", and also by
``recorded_at`` over the same window: an event is never recorded before it happened (imports
keep their past ``occurred_at``, live events are recorded as they happen), so the second
condition drops nothing and lets PostgreSQL use the index instead of scanning the table.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from accounts.models import User
from catalog.models import Genre, Track, TrackArtist
from history.models import ImportStatus, Interaction, InteractionKind, ListenImport

Period = Literal["day", "week"]

#: every kind of interaction, in the order the dashboard shows them
KINDS: tuple[str, ...] = tuple(InteractionKind.values)
#: every status of an import, in the order the dashboard shows them
IMPORT_STATUSES: tuple[str, ...] = tuple(ImportStatus.values)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


# --------------------------------------------------------------------------- activity


@dataclass(frozen=True)
class DayActivity:
    """One UTC day: the distinct ``listeners`` who recorded any live interaction, and the live
    interactions recorded by kind (``by_kind``: every kind of :data:`KINDS`, zeros included)."""

    day: dt.date
    listeners: int
    by_kind: dict[str, int]


def activity_per_day(*, days: int, today: dt.date) -> list[DayActivity]:
    """The last ``days`` UTC days up to ``today`` (oldest first, days without events included):
    live interactions only (imported listens have their own chart), by the day musicrec
    recorded them. One grouped query."""
    first = today - dt.timedelta(days=days - 1)
    rows = (
        Interaction.objects.filter(
            recorded_at__gte=_midnight(first),
            recorded_at__lt=_midnight(today + dt.timedelta(days=1)),
            listen_import__isnull=True,
        )
        .annotate(day=TruncDate("recorded_at", tzinfo=dt.UTC))
        .values("day")
        .annotate(
            listeners=Count("user_id", distinct=True),
            **{f"kind_{kind}": Count("id", filter=Q(kind=kind)) for kind in KINDS},
        )
        .order_by()
    )
    found = {row["day"]: row for row in rows}
    result = []
    for day in _days(first, today):
        row = found.get(day)
        result.append(
            DayActivity(
                day=day,
                listeners=row["listeners"] if row else 0,
                by_kind={kind: (row[f"kind_{kind}"] if row else 0) for kind in KINDS},
            )
        )
    return result


@dataclass(frozen=True)
class ActiveListeners:
    """Distinct accounts with any interaction recorded (live or imported) in the last 24 hours,
    7 days and 30 days before ``now``; ``accounts``: active accounts that are not staff."""

    last_day: int
    last_7_days: int
    last_30_days: int
    accounts: int


def active_listeners(*, now: dt.datetime) -> ActiveListeners:
    """Two queries: one over the last 30 days' interactions, one count of accounts."""
    figures = Interaction.objects.filter(recorded_at__gte=now - dt.timedelta(days=30)).aggregate(
        day=Count("user_id", distinct=True, filter=Q(recorded_at__gte=now - dt.timedelta(days=1))),
        week=Count("user_id", distinct=True, filter=Q(recorded_at__gte=now - dt.timedelta(days=7))),
        month=Count("user_id", distinct=True),
    )
    return ActiveListeners(
        last_day=figures["day"],
        last_7_days=figures["week"],
        last_30_days=figures["month"],
        accounts=User.objects.filter(is_active=True, is_staff=False).count(),
    )


# --------------------------------------------------------------------------- popularity


@dataclass(frozen=True)
class PopularRow:
    """One track or genre of a top list: its ``plays`` over the whole window, and ``counts``,
    its plays in each period of :attr:`PopularOverTime.periods`."""

    id: int
    name: str
    plays: int
    counts: list[int]


@dataclass(frozen=True)
class PopularOverTime:
    """The most played tracks (or genres) of a window, with their plays per ``period`` (each
    period named by its first day; the first one may have begun before the window)."""

    period: Period
    periods: list[dt.date]
    rows: list[PopularRow]


def _periods(first: dt.date, last: dt.date, period: Period) -> list[dt.date]:
    if period == "day":
        return _days(first, last)
    start = week_start(first)
    return [start + dt.timedelta(weeks=n) for n in range((week_start(last) - start).days // 7 + 1)]


def _plays_cte() -> str:
    interaction = Interaction._meta.db_table
    return f"""
        SELECT track_id, (date_trunc(%s, occurred_at AT TIME ZONE 'UTC'))::date AS period
        FROM {interaction}
        WHERE kind = 'play' AND recorded_at >= %s AND occurred_at >= %s AND occurred_at < %s
    """


def _popular(
    *, key_sql: str, join_sql: str, days: int, top: int, period: Period, now: dt.datetime
) -> tuple[list[dt.date], list[tuple[int, int]], dict[int, dict[dt.date, int]]]:
    since = now - dt.timedelta(days=days)
    sql = f"""
        WITH plays AS ({_plays_cte()}),
        keyed AS (SELECT {key_sql} AS key, p.period FROM plays AS p {join_sql}),
        top AS (
            SELECT key, count(*) AS plays FROM keyed GROUP BY key
            ORDER BY plays DESC, key LIMIT %s
        )
        SELECT top.key, top.plays, keyed.period, count(*)
        FROM top JOIN keyed ON keyed.key = top.key
        GROUP BY top.key, top.plays, keyed.period
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [period, since, since, now, top])
        rows = cursor.fetchall()
    totals: dict[int, int] = {}
    per_period: dict[int, dict[dt.date, int]] = defaultdict(dict)
    for key, plays, when, count in rows:
        totals[key] = plays
        per_period[key][when] = count
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return _periods(since.date(), now.date(), period), ranked, per_period


def popular_tracks_over_time(
    *, days: int, top: int, period: Period, now: dt.datetime
) -> PopularOverTime:
    """The ``top`` most played tracks of the last ``days`` days (live and imported plays, by
    when they happened), with their plays per ``period``; named "title — first artist". Two
    queries (the plays, the names)."""
    periods, ranked, per_period = _popular(
        key_sql="p.track_id", join_sql="", days=days, top=top, period=period, now=now
    )
    ids = [key for key, _ in ranked]
    titles = dict(Track.objects.filter(pk__in=ids).values_list("pk", "title"))
    artists: dict[int, str] = {}
    for track_id, name in (
        TrackArtist.objects.filter(track_id__in=ids)
        .order_by("track_id", "position")
        .values_list("track_id", "artist__name")
    ):
        artists.setdefault(track_id, name)
    return PopularOverTime(
        period=period,
        periods=periods,
        rows=[
            PopularRow(
                id=key,
                name=" — ".join(filter(None, [titles.get(key, f"#{key}"), artists.get(key)])),
                plays=plays,
                counts=[per_period[key].get(when, 0) for when in periods],
            )
            for key, plays in ranked
        ],
    )


def popular_genres_over_time(
    *, days: int, top: int, period: Period, now: dt.datetime
) -> PopularOverTime:
    """The ``top`` genres with the most plays in the last ``days`` days (a play counts for every
    genre of its track), with their plays per ``period``. Two queries."""
    through = Track.genres.through._meta.db_table
    periods, ranked, per_period = _popular(
        key_sql="g.genre_id",
        join_sql=f"JOIN {through} AS g ON g.track_id = p.track_id",
        days=days,
        top=top,
        period=period,
        now=now,
    )
    names = dict(Genre.objects.filter(pk__in=[key for key, _ in ranked]).values_list("pk", "name"))
    return PopularOverTime(
        period=period,
        periods=periods,
        rows=[
            PopularRow(
                id=key,
                name=names.get(key, f"#{key}"),
                plays=plays,
                counts=[per_period[key].get(when, 0) for when in periods],
            )
            for key, plays in ranked
        ],
    )


# --------------------------------------------------------------------------- imports


@dataclass(frozen=True)
class ImportFigures:
    """Listening imports: how many there are by status (all of them: ``by_status``, every
    status of :data:`IMPORT_STATUSES`), how many were uploaded each UTC day of the window by
    status (``per_day``: ``(day, {status: count})``, oldest first), and the listens those
    uploads held, matched to the catalog or not."""

    by_status: dict[str, int]
    per_day: list[tuple[dt.date, dict[str, int]]]
    listens: int
    matched: int
    unmatched: int


def import_figures(*, days: int, today: dt.date) -> ImportFigures:
    """Two grouped queries (the table holds one row per upload, kept while its listens are)."""
    first = today - dt.timedelta(days=days - 1)
    by_status = dict.fromkeys(IMPORT_STATUSES, 0)
    for status, count in (
        ListenImport.objects.values_list("status").annotate(n=Count("id")).order_by()
    ):
        by_status[status] = count
    per: dict[dt.date, dict[str, int]] = {}
    listens = matched = unmatched = 0
    rows = (
        ListenImport.objects.filter(
            created_at__gte=_midnight(first), created_at__lt=_midnight(today + dt.timedelta(days=1))
        )
        .annotate(day=TruncDate("created_at", tzinfo=dt.UTC))
        .values("day", "status")
        .annotate(
            n=Count("id"),
            listens=Sum("listens"),
            matched=Sum("matched"),
            unmatched=Sum("unmatched"),
        )
        .order_by()
    )
    for row in rows:
        per.setdefault(row["day"], {})[row["status"]] = row["n"]
        listens += row["listens"] or 0
        matched += row["matched"] or 0
        unmatched += row["unmatched"] or 0
    return ImportFigures(
        by_status=by_status,
        per_day=[
            (day, {status: per.get(day, {}).get(status, 0) for status in IMPORT_STATUSES})
            for day in _days(first, today)
        ],
        listens=listens,
        matched=matched,
        unmatched=unmatched,
    )


# --------------------------------------------------------------------------- cohorts


@dataclass(frozen=True)
class Cohort:
    """The listeners who signed up in the week beginning ``week`` (``size``), and how many of
    them recorded any interaction in that week and each following one (``active[k]``: week
    ``k`` after; only weeks that have begun)."""

    week: dt.date
    size: int
    active: list[int]

    @property
    def shares(self) -> list[float | None]:
        return [count / self.size if self.size else None for count in self.active]


def listener_cohorts(*, weeks: int, today: dt.date) -> list[Cohort]:
    """The last ``weeks`` sign-up weeks (the current one included, oldest first, weeks without
    sign-ups included with size 0): accounts that are not staff, by ``date_joined``; "active"
    in a week = any interaction recorded then (live or an upload). One query."""
    this_week = week_start(today)
    first = this_week - dt.timedelta(weeks=weeks - 1)
    user = User._meta.db_table
    interaction = Interaction._meta.db_table
    sql = f"""
        WITH cohort AS (
            SELECT id, (date_trunc('week', date_joined AT TIME ZONE 'UTC'))::date AS week
            FROM {user}
            WHERE date_joined >= %s AND NOT is_staff
        ),
        seen AS (
            SELECT DISTINCT e.user_id,
                   (date_trunc('week', e.recorded_at AT TIME ZONE 'UTC'))::date AS week
            FROM {interaction} AS e
            WHERE e.recorded_at >= %s AND e.user_id IN (SELECT id FROM cohort)
        )
        SELECT week, -1, count(*) FROM cohort GROUP BY week
        UNION ALL
        SELECT c.week, (s.week - c.week) / 7, count(*)
        FROM cohort AS c JOIN seen AS s ON s.user_id = c.id AND s.week >= c.week
        GROUP BY c.week, (s.week - c.week) / 7
    """
    since = _midnight(first)
    with connection.cursor() as cursor:
        cursor.execute(sql, [since, since])
        rows = cursor.fetchall()
    sizes: dict[dt.date, int] = {}
    active: dict[dt.date, dict[int, int]] = defaultdict(dict)
    for week, offset, count in rows:
        if offset < 0:
            sizes[week] = count
        else:
            active[week][offset] = count
    cohorts = []
    for n in range(weeks):
        week = first + dt.timedelta(weeks=n)
        elapsed = (this_week - week).days // 7
        cohorts.append(
            Cohort(
                week=week,
                size=sizes.get(week, 0),
                active=[active[week].get(offset, 0) for offset in range(elapsed + 1)],
            )
        )
    return cohorts
