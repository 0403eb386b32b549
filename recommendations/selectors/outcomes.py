"""What became of served tracks: the feedback each track of each served list received, the base
of the staff dashboard's click-through, like and skip rates (by source and position) and of the
experiments' reports (by variant).

**Attribution** (one rule everywhere): an interaction of the listener with a served track answers
that impression when it names it (``history.Interaction.impression_id``: the site's pages and
a client that sends the id back), or when it names no impression and happened within
``RECOMMENDER["impressions"]["attribution_minutes"]`` (30) after the list was served. An
interaction that names *another* impression never counts for this one.

For each served track (an impression's item):

- **clicked**: a play or a like of it was attributed (the click-through);
- **liked**, **skipped**, **disliked**: an interaction of that kind was;
- **listened**: of an attributed play whose ``listened_ms`` is known, the share of the track
  heard (``min(listened_ms / duration_ms, 1)``; the largest if several), else null.

Everything is computed in PostgreSQL (the impressions' items expanded with
``jsonb_array_elements``, interactions joined on listener, track and time through the
listener-time index); callers aggregate on top of :func:`item_outcomes_sql` and read only
the aggregates, never every row.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection

from catalog.models import Track
from history.models import Interaction
from recommendations.models import Impression

#: Default attribution window when ``RECOMMENDER["impressions"]["attribution_minutes"]`` is unset.
ATTRIBUTION_MINUTES = 30


def attribution_window() -> dt.timedelta:
    """How long after a list was served an interaction that names no impression still answers
    it (``RECOMMENDER["impressions"]["attribution_minutes"]``)."""
    options = settings.RECOMMENDER.get("impressions", {})
    return dt.timedelta(minutes=float(options.get("attribution_minutes", ATTRIBUTION_MINUTES)))


@dataclass(frozen=True)
class ImpressionFilter:
    """Which impressions: served in ``[since, until)`` (either may be None), of one
    ``experiment_id`` (None: any, or none at all), of ``user_ids`` (None: everyone)."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    experiment_id: int | None = None
    user_ids: tuple[int, ...] | None = None


def item_outcomes_sql(where: ImpressionFilter) -> tuple[str, list[Any]]:
    """SQL (and its parameters) of one row per served track of the impressions ``where`` picks::

        impression_id uuid, user_id bigint, served_at timestamptz, surface text,
        experiment_id bigint, variant text, team text (null unless interleaved),
        track_id bigint, position int, sources jsonb ({source: score}),
        clicked bool, liked bool, skipped bool, disliked bool, listened float (null: no play
        with a known length)

    to be used as a sub-query (``SELECT … FROM (<sql>) AS o GROUP BY …``)."""
    impression = Impression._meta.db_table
    interaction = Interaction._meta.db_table
    track = Track._meta.db_table
    conditions: list[str] = []
    params: list[Any] = []
    if where.since is not None:
        conditions.append("i.served_at >= %s")
        params.append(where.since)
    if where.until is not None:
        conditions.append("i.served_at < %s")
        params.append(where.until)
    if where.experiment_id is not None:
        conditions.append("i.experiment_id = %s")
        params.append(where.experiment_id)
    if where.user_ids is not None:
        conditions.append("i.user_id = ANY(%s)")
        params.append(list(where.user_ids))
    filters = " AND ".join(conditions) or "TRUE"
    # Interactions recorded before ``since`` cannot answer a list served after it (an answer is
    # recorded after the list it answers was served): the bound changes no result and lets
    # PostgreSQL read the window's interactions through their ``recorded_at`` index instead of
    # sorting the whole table (1M interactions: 5.5 s → see docs/insights.md).
    recorded = "AND e.recorded_at >= %s" if where.since is not None else ""
    window = attribution_window()
    sql = f"""
        WITH served AS (
            SELECT i.id AS impression_id, i.user_id, i.served_at, i.surface,
                   i.experiment_id, i.variant,
                   item->>'team' AS team,
                   (item->>'track_id')::bigint AS track_id,
                   (item->>'position')::int AS position,
                   COALESCE(item->'sources', '{{}}'::jsonb) AS sources
            FROM {impression} AS i
            CROSS JOIN LATERAL jsonb_array_elements(i.items) AS item
            WHERE {filters}
        )
        SELECT s.impression_id, s.user_id, s.served_at, s.surface, s.experiment_id,
               s.variant, s.team, s.track_id, s.position, s.sources,
               COALESCE(bool_or(e.kind IN ('play', 'like')), FALSE) AS clicked,
               COALESCE(bool_or(e.kind = 'like'), FALSE) AS liked,
               COALESCE(bool_or(e.kind = 'skip'), FALSE) AS skipped,
               COALESCE(bool_or(e.kind = 'dislike'), FALSE) AS disliked,
               max(LEAST(e.listened_ms::double precision / NULLIF(t.duration_ms, 0), 1.0))
                   FILTER (WHERE e.kind = 'play' AND e.listened_ms IS NOT NULL) AS listened
        FROM served AS s
        LEFT JOIN {interaction} AS e
            ON e.user_id = s.user_id
           AND e.track_id = s.track_id
           AND (
                e.impression_id = s.impression_id
                OR (
                    e.impression_id IS NULL
                    AND e.occurred_at >= s.served_at
                    AND e.occurred_at < s.served_at + %s
                )
           )
           {recorded}
        LEFT JOIN {track} AS t ON t.id = s.track_id
        GROUP BY s.impression_id, s.user_id, s.served_at, s.surface, s.experiment_id,
                 s.variant, s.team, s.track_id, s.position, s.sources
    """
    return sql, [*params, window, *([where.since] if where.since is not None else [])]


@dataclass(frozen=True)
class Totals:
    """Counts of one group of served tracks: ``served`` tracks in ``impressions`` lists of
    ``listeners`` listeners; how many were ``clicked`` / ``liked`` / ``skipped`` /
    ``disliked``; ``listened_sum`` over ``listened_count`` plays of known length."""

    group: Any
    impressions: int
    listeners: int
    served: int
    clicked: int
    liked: int
    skipped: int
    disliked: int
    listened_sum: float
    listened_count: int


#: The grouping expressions :func:`outcome_totals` accepts (over the rows of item_outcomes_sql).
GROUPS = {
    "all": "'all'",
    "position": "o.position",
    "variant": "o.variant",
    "surface": "o.surface",
    "day": "date_trunc('day', o.served_at)",
    # the interleaving team (variant key) of a served track; null outside interleaved lists
    "team": "o.team",
}


def outcome_totals(where: ImpressionFilter, *, group: str = "all") -> list[Totals]:
    """:class:`Totals` of the served tracks ``where`` picks, one per value of ``group``
    (a key of :data:`GROUPS`), in its order; one query. ``group="source"`` counts a served
    track once for every source that proposed it (its score from that source above 0)."""
    inner, params = item_outcomes_sql(where)
    if group == "source":
        key = "src.key"
        source_join = "CROSS JOIN LATERAL jsonb_each(o.sources) AS src"
        source_where = "WHERE (src.value)::double precision > 0"
    else:
        key = GROUPS[group]
        source_join = ""
        source_where = ""
    sql = f"""
        SELECT {key} AS grp,
               count(DISTINCT o.impression_id), count(DISTINCT o.user_id), count(*),
               count(*) FILTER (WHERE o.clicked), count(*) FILTER (WHERE o.liked),
               count(*) FILTER (WHERE o.skipped), count(*) FILTER (WHERE o.disliked),
               COALESCE(sum(o.listened), 0), count(o.listened)
        FROM ({inner}) AS o
        {source_join}
        {source_where}
        GROUP BY 1
        ORDER BY 1
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            Totals(
                group=row[0],
                impressions=row[1],
                listeners=row[2],
                served=row[3],
                clicked=row[4],
                liked=row[5],
                skipped=row[6],
                disliked=row[7],
                listened_sum=float(row[8]),
                listened_count=row[9],
            )
            for row in cursor.fetchall()
        ]


#: how :func:`outcome_totals_by` reads back each group's values (sent as text in one UNION)
_GROUP_VALUES: dict[str, Any] = {
    "all": str,
    "position": int,
    "variant": str,
    "surface": str,
    "source": str,
}


def outcome_totals_by(where: ImpressionFilter, *, groups: Sequence[str]) -> dict[str, list[Totals]]:
    """:func:`outcome_totals` for several ``groups`` at once (any of ``all``, ``position``,
    ``variant``, ``surface``, ``source``): the served tracks' outcomes are computed once (a
    materialized CTE, the expensive part) and grouped each way; one query. (Added for the staff
    dashboard, which shows the rates by source and by position.)"""
    unknown = [group for group in groups if group not in _GROUP_VALUES]
    if unknown:
        raise ValueError(f"outcome_totals_by: unknown groups {unknown}")
    inner, params = item_outcomes_sql(where)
    parts = []
    for index, group in enumerate(groups):
        if group == "source":
            key = "src.key"
            joined = (
                "CROSS JOIN LATERAL jsonb_each(o.sources) AS src "
                "WHERE (src.value)::double precision > 0"
            )
        else:
            key, joined = GROUPS[group], ""
        parts.append(f"""
            SELECT {index} AS which, ({key})::text AS grp,
                   count(DISTINCT o.impression_id), count(DISTINCT o.user_id), count(*),
                   count(*) FILTER (WHERE o.clicked), count(*) FILTER (WHERE o.liked),
                   count(*) FILTER (WHERE o.skipped), count(*) FILTER (WHERE o.disliked),
                   COALESCE(sum(o.listened), 0), count(o.listened)
            FROM outcomes AS o {joined}
            GROUP BY 1, 2
        """)
    sql = f"WITH outcomes AS MATERIALIZED ({inner}) {' UNION ALL '.join(parts)}"
    result: dict[str, list[Totals]] = {group: [] for group in groups}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for row in rows:
        group = groups[row[0]]
        result[group].append(
            Totals(
                group=_GROUP_VALUES[group](row[1]),
                impressions=row[2],
                listeners=row[3],
                served=row[4],
                clicked=row[5],
                liked=row[6],
                skipped=row[7],
                disliked=row[8],
                listened_sum=float(row[9]),
                listened_count=row[10],
            )
        )
    for totals in result.values():
        totals.sort(key=lambda t: t.group)
    return result


def impression_team_clicks(
    where: ImpressionFilter,
) -> Iterator[tuple[uuid.UUID, int, dict[str, int]]]:
    """For each interleaved impression ``where`` picks: its id, its listener, and the clicks
    (plays or likes attributed) on each team's tracks, ``{team: clicks}`` (a team with none
    is absent). Streamed from one query."""
    inner, params = item_outcomes_sql(where)
    sql = f"""
        SELECT o.impression_id, o.user_id,
               COALESCE(jsonb_object_agg(o.team, o.clicks) FILTER (WHERE o.clicks > 0), '{{}}')
        FROM (
            SELECT impression_id, user_id, team, count(*) FILTER (WHERE clicked) AS clicks
            FROM ({inner}) AS x
            WHERE team IS NOT NULL
            GROUP BY impression_id, user_id, team
        ) AS o
        GROUP BY o.impression_id, o.user_id
        ORDER BY o.impression_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for impression_id, user_id, clicks in cursor:
            # Django's connection reads jsonb as text (JSONField decodes it itself)
            teams = json.loads(clicks) if isinstance(clicks, str) else clicks
            yield impression_id, user_id, dict(teams)


@dataclass(frozen=True)
class ListenerTotals:
    """:class:`Totals` of one listener's served tracks in one ``variant`` (plus
    ``listened_squares``, the sum of squared ``listened`` shares): the unit of the experiment
    reports' bootstrap, since one listener's served tracks are not independent."""

    variant: str
    user_id: int
    impressions: int
    served: int
    clicked: int
    liked: int
    skipped: int
    disliked: int
    listened_sum: float
    listened_squares: float
    listened_count: int


def listener_totals(where: ImpressionFilter, *, by: str = "variant") -> list[ListenerTotals]:
    """One :class:`ListenerTotals` per (variant, listener) of the impressions ``where`` picks,
    ordered by variant then listener; one query, aggregated in PostgreSQL (one row per listener
    and variant reaches Python, never one per served track). ``by="team"``: per interleaving
    team instead (the variant key that contributed each track of an interleaved list; tracks
    of other lists are left out), in ``ListenerTotals.variant``. Added for the experiment
    reports (issue #14)."""
    if by not in ("variant", "team"):
        raise ValueError("by must be 'variant' or 'team'")
    inner, params = item_outcomes_sql(where)
    team_only = "WHERE o.team IS NOT NULL" if by == "team" else ""
    sql = f"""
        SELECT o.{by}, o.user_id, count(DISTINCT o.impression_id), count(*),
               count(*) FILTER (WHERE o.clicked), count(*) FILTER (WHERE o.liked),
               count(*) FILTER (WHERE o.skipped), count(*) FILTER (WHERE o.disliked),
               COALESCE(sum(o.listened), 0), COALESCE(sum(o.listened * o.listened), 0),
               count(o.listened)
        FROM ({inner}) AS o
        {team_only}
        GROUP BY 1, 2
        ORDER BY 1, 2
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            ListenerTotals(
                variant=row[0],
                user_id=row[1],
                impressions=row[2],
                served=row[3],
                clicked=row[4],
                liked=row[5],
                skipped=row[6],
                disliked=row[7],
                listened_sum=float(row[8]),
                listened_squares=float(row[9]),
                listened_count=row[10],
            )
            for row in cursor.fetchall()
        ]


@dataclass(frozen=True)
class InterleavingTotals:
    """Interleaved impressions credited by the rule of
    ``recommendations.engine.experiments.interleaving_credit``: ``wins`` per team (variant key)
    with more clicked tracks than the other, ``ties`` (clicks, equally many), ``without_click``;
    ``impressions`` and distinct ``listeners`` in all."""

    impressions: int
    listeners: int
    wins: dict[str, int]
    ties: int
    without_click: int


def interleaving_totals(where: ImpressionFilter) -> InterleavingTotals:
    """How the interleaved impressions ``where`` picks were credited (see
    :class:`InterleavingTotals`): the winner of each impression is computed in PostgreSQL, the
    same rule as :func:`impression_team_clicks` followed by ``interleaving_credit`` in Python,
    without reading an impression into Python. Added for the experiment reports (issue #14)."""
    inner, params = item_outcomes_sql(where)
    sql = f"""
        WITH per_team AS (
            SELECT impression_id, user_id, team, count(*) FILTER (WHERE clicked) AS clicks
            FROM ({inner}) AS x
            WHERE team IS NOT NULL
            GROUP BY impression_id, user_id, team
        ), ranked AS (
            SELECT *, max(clicks) OVER (PARTITION BY impression_id) AS top FROM per_team
        ), credited AS (
            SELECT impression_id, user_id, max(top) AS top,
                   count(*) FILTER (WHERE clicks = top) AS leaders,
                   min(team) FILTER (WHERE clicks = top) AS leader
            FROM ranked
            GROUP BY impression_id, user_id
        )
        SELECT CASE WHEN top = 0 THEN 'none' WHEN leaders > 1 THEN 'tie' ELSE 'win' END,
               CASE WHEN top > 0 AND leaders = 1 THEN leader END,
               count(*),
               (SELECT count(DISTINCT user_id) FROM credited)
        FROM credited
        GROUP BY 1, 2
    """
    wins: dict[str, int] = {}
    ties = without_click = impressions = listeners = 0
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, team, count, distinct in cursor.fetchall():
            impressions += count
            listeners = distinct
            if kind == "win":
                wins[team] = count
            elif kind == "tie":
                ties = count
            else:
                without_click = count
    return InterleavingTotals(
        impressions=impressions,
        listeners=listeners,
        wins=dict(sorted(wins.items())),
        ties=ties,
        without_click=without_click,
    )
