"""The platform dashboard for staff: ``/staff/insights/``.

Staff only: an anonymous visitor is sent to sign in, a signed-in listener who is not staff gets
a 403 (not a sign-in page: signing in again would not help). The heavy figures are never
computed here: the page reads those the Celery task stored
(``insights.selectors.dashboard.stored_dashboard_figures``) and, when there are none yet,
enqueues the task once (``insights.services.dashboard.dashboard_refresh_request``); the cheap
ones (model versions, list cache, latency, experiments) are read on each view. "Refresh now"
(POST) enqueues the task. This module only turns the figures into charts
(``insights.charts.Chart``) and tables with a one-line reading each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from history.models import ImportStatus, InteractionKind
from insights.charts import Chart, Series
from insights.selectors.dashboard import (
    DashboardFigures,
    HealthFigures,
    dashboard_options,
    health_figures,
    stored_dashboard_figures,
)
from insights.selectors.health import ServedRates
from insights.selectors.platform import Cohort, PopularOverTime
from insights.services.dashboard import RefreshRequest, dashboard_refresh_request
from recommendations.selectors.outcomes import attribution_window


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _activity_charts(d: DashboardFigures) -> list[Chart]:
    days = d.activity
    labels = [_day(row.day) for row in days]
    listeners = [row.listeners for row in days]
    busiest = max(days, key=lambda row: (row.listeners, row.day)) if days else None
    total_by_kind = {kind: sum(row.by_kind[kind] for row in days) for kind in InteractionKind}
    top_kind = max(total_by_kind, key=lambda kind: total_by_kind[kind]) if days else None
    events = sum(total_by_kind.values())
    return [
        Chart(
            key="active-listeners",
            kind="line",
            title=f"Active listeners per day, last {len(days)} days",
            reading=(
                f"About {sum(listeners) / len(days):,.0f} listeners a day; the busiest day "
                f"was {_day(busiest.day)} with {busiest.listeners:,}."
                if busiest
                else ""
            ),
            labels=labels,
            series=[Series("Listeners", listeners)],
            empty="No listener has liked, played or skipped anything in this window yet: "
            "activity appears as soon as listeners use their recommendations.",
            extra={"label_header": "Day (UTC)"},
        ),
        Chart(
            key="interactions",
            kind="bar",
            title=f"Interactions by kind per day, last {len(days)} days",
            reading=(
                f"{events:,} interactions in {len(days)} days; the most common kind is "
                f"{InteractionKind(top_kind).label.lower()} ({total_by_kind[top_kind]:,})."
                if top_kind and events
                else ""
            ),
            labels=labels,
            series=[
                Series(InteractionKind(kind).label, [row.by_kind[kind] for row in days])
                for kind in InteractionKind
            ],
            stacked=True,
            empty="No plays, likes, skips or playlist additions recorded in this window: they "
            "come from listeners' feedback on the site and through the API.",
            extra={"label_header": "Day (UTC)"},
        ),
    ]


def _imports_chart(d: DashboardFigures) -> Chart:
    imports = d.imports
    uploads = sum(sum(counts.values()) for _, counts in imports.per_day)
    failed = sum(counts[ImportStatus.FAILED] for _, counts in imports.per_day)
    return Chart(
        key="imports",
        kind="bar",
        title=f"Listening imports uploaded per day, last {len(imports.per_day)} days",
        reading=(
            f"{uploads} uploads ({failed} failed) held {imports.listens} listens, "
            f"{_percent(imports.matched / imports.listens if imports.listens else None)} of "
            "them matched to the catalog."
        ),
        labels=[_day(day) for day, _ in imports.per_day],
        series=[
            Series(status.label, [counts[status] for _, counts in imports.per_day])
            for status in ImportStatus
        ],
        stacked=True,
        empty="No listening history was imported in this window: listeners upload Last.fm, "
        "Spotify or ListenBrainz exports from their history page.",
        extra={"label_header": "Day (UTC)"},
    )


def _period_labels(popular: PopularOverTime) -> list[str]:
    """ "Week of 2 Nov" … and the current, unfinished week "This week (so far)" (its plays are
    not a fall); days by date."""
    if popular.period == "day":
        return [_day(when) for when in popular.periods]
    labels = [f"Week of {_day(when)}" for when in popular.periods]
    if labels:
        labels[-1] = "This week (so far)"
    return labels


def _capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _popular_chart(key: str, what: str, popular: PopularOverTime, days: int) -> Chart:
    per = "week" if popular.period == "week" else "day"
    leader = popular.rows[0] if popular.rows else None
    return Chart(
        key=key,
        kind="line",
        title=f"Most played {what}, last {days} days (plays per {per})",
        reading=(
            # a genre is lower case ("metal"): the sentence still starts with a capital
            _capital(f"{leader.name} leads with {leader.plays:,} plays in {days} days.")
            if leader
            else ""
        ),
        labels=_period_labels(popular),
        series=[Series(row.name, row.counts) for row in popular.rows],
        empty=f"No plays in the last {days} days: {what} show up here once listeners play "
        "tracks (live or from an imported history).",
        extra={"label_header": "Week (UTC)" if popular.period == "week" else "Day (UTC)"},
    )


def _retention(cohorts: Sequence[Cohort]) -> list[float | None]:
    """The share of listeners still active k weeks after the week they signed up, over every
    cohort that has reached week k (weighted by cohort size)."""
    longest = max((len(c.active) for c in cohorts), default=0)
    shares: list[float | None] = []
    for week in range(longest):
        reached = [c for c in cohorts if len(c.active) > week and c.size]
        size = sum(c.size for c in reached)
        shares.append(sum(c.active[week] for c in reached) / size if size else None)
    return shares


def _cohort_chart(d: DashboardFigures) -> Chart:
    shares = _retention(d.cohorts)
    later = [share for share in shares[1:] if share is not None]
    return Chart(
        key="retention",
        kind="line",
        title="Share of new listeners still active, by weeks since they signed up",
        reading=(
            f"{_percent(shares[0])} are active in the week they sign up; "
            f"{_percent(later[0])} a week later."
            if later and shares[0] is not None
            else (f"{_percent(shares[0])} are active in the week they sign up." if shares else "")
        ),
        labels=[f"Week {n}" for n in range(len(shares))],
        series=[Series("Still active", shares)],
        value_format="percent",
        empty="Nobody signed up in these weeks yet: each week's new listeners appear here, "
        "with how many of them come back.",
        extra={"label_header": "Weeks since sign-up"},
    )


def _served_chart(
    key: str, title: str, rows: Sequence[ServedRates], header: str, naming: str
) -> Chart:
    """``naming``: how the reading names a group ("position {}", "the {} source")."""
    served = sum(row.served for row in rows)
    best = max(
        (row for row in rows if row.served),
        key=lambda row: (row.click_rate or 0, row.served),
        default=None,
    )
    return Chart(
        key=key,
        kind="bar",
        title=title,
        reading=(
            f"{served} served tracks; {naming.format(best.group)} has the best click-through "
            f"({_percent(best.click_rate)} of {best.served})."
            if best
            else ""
        ),
        labels=[row.group for row in rows],
        series=[
            Series("Click-through", [row.click_rate for row in rows]),
            Series("Liked", [row.like_rate for row in rows]),
            Series("Skipped", [row.skip_rate for row in rows]),
        ],
        value_format="percent",
        empty="No recommendation list was served in this window: lists are recorded when "
        "listeners open their home page or call the recommendations API.",
        extra={"label_header": header},
    )


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _cohort_rows(cohorts: Sequence[Cohort], weeks: int) -> list[dict[str, Any]]:
    """The retention table: a row per sign-up week, a cell per week since (text and a shade
    0–4 for the CSS; None for weeks not reached yet)."""
    rows = []
    for cohort in cohorts:
        cells: list[tuple[str, int] | None] = []
        for week in range(weeks):
            if week >= len(cohort.active):
                cells.append(None)
                continue
            share = cohort.shares[week]
            cells.append(
                (
                    f"{_percent(share)} ({cohort.active[week]})" if share is not None else "–",
                    0 if not share else min(4, 1 + int(share * 4)),
                )
            )
        rows.append({"week": f"Week of {_day(cohort.week)}", "size": cohort.size, "cells": cells})
    return rows


def figures_context(d: DashboardFigures) -> dict[str, Any]:
    """The heavy figures' charts and tables."""
    days = int(d.options["popularity_days"])
    served_days = int(d.options["served_days"])
    retention = _retention(d.cohorts)
    return {
        "activity_charts": _activity_charts(d),
        "imports_chart": _imports_chart(d),
        "popular_charts": [
            _popular_chart("popular-tracks", "tracks", d.popular_tracks, days),
            _popular_chart("popular-genres", "genres", d.popular_genres, days),
        ],
        "cohort_chart": _cohort_chart(d),
        "cohort_weeks": range(len(retention)),
        "cohort_rows": _cohort_rows(d.cohorts, len(retention)),
        "cohort_signups": sum(c.size for c in d.cohorts),
        "served_charts": [
            _served_chart(
                "served-source",
                f"Served tracks by source, last {served_days} days",
                d.served.by_source,
                "Source",
                "the {} source",
            ),
            _served_chart(
                "served-position",
                f"Served tracks by position in the list, last {served_days} days",
                d.served.by_position,
                "Position",
                "position {}",
            ),
        ],
        "import_statuses": [(status.label, d.imports.by_status[status]) for status in ImportStatus],
    }


def health_context(health: HealthFigures) -> dict[str, Any]:
    """The cheap figures' tables (read on every view)."""
    return {
        "health": health,
        "latency_rows": [
            {
                "series": row.series,
                "requests": row.requests,
                "recommendation": row.recommendation,
                "p50": _ms(row.p50),
                "p95": _ms(row.p95),
                "p99": _ms(row.p99),
            }
            for row in health.latency.routes
        ],
    }


#: what the page says of a refresh request (a message after "Refresh now")
_REQUEST_MESSAGES = {
    RefreshRequest.ENQUEUED: "The figures are being computed; reload in a minute.",
    RefreshRequest.PENDING: "The figures are already being computed; reload in a minute.",
    RefreshRequest.NOT_QUEUED: "The task queue did not answer: the figures could not be "
    "recomputed now; the scheduled run will compute them.",
    RefreshRequest.UNAVAILABLE: "Redis did not answer: the figures cannot be recomputed now.",
}


def _staff_only(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.user.is_staff:
        raise PermissionDenied("The dashboard is for staff.")
    return None


def staff_insights_page(request: HttpRequest) -> HttpResponse:
    if (refused := _staff_only(request)) is not None:
        return refused
    return _staff_insights(request)


@require_safe  # a page to read: GET and HEAD (after the sign-in and staff checks), else 405
def _staff_insights(request: HttpRequest) -> HttpResponse:
    stored = stored_dashboard_figures()
    requested: RefreshRequest | None = None
    if stored.figures is None and stored.available and not stored.pending:
        requested = dashboard_refresh_request()  # once for a burst of views (its marker)
        if requested is RefreshRequest.ENQUEUED:
            # the marker is now there (pending); in eager mode (development) the task ran here
            stored = stored_dashboard_figures()
    figures = stored.figures
    context: dict[str, Any] = {
        "figures": figures,
        "figures_available": stored.available,
        "figures_pending": stored.pending,
        "figures_not_queued": requested is RefreshRequest.NOT_QUEUED,
        "refresh_minutes": int(dashboard_options()["refresh_minutes"]),
        "attribution_minutes": int(attribution_window().total_seconds() // 60),
        **health_context(health_figures(now=timezone.now())),
    }
    if figures is not None:
        context |= figures_context(figures)
    return render(request, "insights/staff.html", context)


@require_POST
def staff_insights_refresh(request: HttpRequest) -> HttpResponse:
    """ "Refresh now": enqueue the task (unless it is running or enqueued: the lock and the
    marker rate-limit it) and go back to the page, which says what happened."""
    if (refused := _staff_only(request)) is not None:
        return refused
    outcome = dashboard_refresh_request()
    level = messages.SUCCESS if outcome is RefreshRequest.ENQUEUED else messages.WARNING
    if outcome is RefreshRequest.PENDING:
        level = messages.INFO
    messages.add_message(request, level, _REQUEST_MESSAGES[outcome])
    return redirect("insights:staff")
