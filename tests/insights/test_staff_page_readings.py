"""The staff dashboard's one-line readings read as sentences (what walking the page found:
"241.1 listeners a day on average", "17173 interactions", "metal leads with 1700 plays"). Built
from the selectors' own figures, without the database: the readings are plain text."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from history.models import InteractionKind
from insights.selectors.platform import DayActivity, PopularOverTime, PopularRow
from insights.views.staff import _activity_charts, _popular_chart


def _day(n: int, listeners: int, plays: int) -> DayActivity:
    by_kind = {kind.value: 0 for kind in InteractionKind}
    by_kind["play"] = plays
    by_kind["like"] = 1
    return DayActivity(
        day=dt.date(2026, 11, 1) + dt.timedelta(days=n), listeners=listeners, by_kind=by_kind
    )


def test_activity_readings_round_listeners_and_group_thousands():
    days = [_day(0, 241, 6000), _day(1, 242, 6000), _day(2, 260, 5173)]

    listeners, interactions = _activity_charts(SimpleNamespace(activity=days))[:2]

    assert listeners.reading == "About 248 listeners a day; the busiest day was 3 Nov with 260."
    assert interactions.reading == (
        "17,176 interactions in 3 days; the most common kind is play (17,173)."
    )


def test_a_genre_leading_the_popularity_chart_starts_its_sentence_with_a_capital():
    popular = PopularOverTime(
        period="week",
        periods=[dt.date(2026, 11, 2)],
        rows=[PopularRow(id=1, name="metal", plays=1700, counts=[1700])],
    )

    chart = _popular_chart("popular-genres", "genres", popular, 90)

    assert chart.reading == "Metal leads with 1,700 plays in 90 days."
