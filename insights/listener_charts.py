"""The charts of a listener's insights page, each with its one-line plain reading, built from
:class:`insights.selectors.listener.ListenerInsights` (no query here: every number comes from
the selector, so the page, its tables, its charts and the API agree).

Readings are computed from the numbers shown: a sentence a person can check against the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.urls import reverse

from insights.charts import Chart, Series
from insights.selectors.listener import (
    PROFILE_FEATURES,
    TEMPO_HIGH,
    TEMPO_LOW,
    GenrePeriod,
    ListenerInsights,
    Share,
)

#: genres named in the "how it changed" chart (the rest is "Other")
TREND_GENRES = 5
#: a reading says "mostly X" when X has at least this share, else "a wide mix, led by X"
MOSTLY = 0.3
#: a feature differs from the average listener's when it is this far from it (0–1 scale)
PROFILE_DIFFERENCE = 0.05

FEATURE_LABELS = {
    "energy": "Energy",
    "valence": "Cheerfulness (valence)",
    "danceability": "Danceability",
    "acousticness": "Acousticness",
    "instrumentalness": "Instrumentalness",
    "speechiness": "Speechiness",
    "liveness": "Liveness",
    "tempo": f"Tempo ({TEMPO_LOW:.0f}–{TEMPO_HIGH:.0f} BPM)",
}
# (more, less) in a reading: "more energetic and less acoustic than the average listener"
FEATURE_WORDS = {
    "energy": ("more energetic", "calmer"),
    "valence": ("more cheerful", "more melancholic"),
    "danceability": ("more danceable", "less danceable"),
    "acousticness": ("more acoustic", "less acoustic"),
    "instrumentalness": ("more instrumental", "more vocal"),
    "speechiness": ("more spoken word", "less spoken word"),
    "liveness": ("more live recordings", "fewer live recordings"),
    "tempo": ("faster", "slower"),
}


@dataclass(frozen=True)
class Links:
    search: str
    history: str
    imports: str
    home: str


def links() -> Links:
    return Links(
        search=reverse("catalog:search"),
        history=reverse("history:page"),
        imports=reverse("history:imports"),
        home=reverse("recommendations:home"),
    )


def percent(value: float) -> str:
    return f"{value * 100:.0f}\u202f%"


def count(number: int, noun: str) -> str:
    """``1 play``, ``3 plays``: a reading never says "1 plays"."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _and(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _empty(url: str, link: str) -> dict[str, str]:
    """What the template links to under an empty chart."""
    return {"empty_url": url, "empty_link": link}


# ---- genres -------------------------------------------------------------------------------------


def genres_reading(history: list[Share], liked: list[Share]) -> str:
    main = history or liked
    if not main:
        return ""
    where = "history" if history else "liked tracks"
    first = main[0]
    if first.share >= MOSTLY or len(main) == 1:
        sentence = f"Mostly {first.name} ({percent(first.share)})"
        if len(main) > 1:
            sentence += f" and {main[1].name} ({percent(main[1].share)})"
    else:
        sentence = (
            f"A wide mix of {len(main)} genres, led by {first.name} ({percent(first.share)})"
            f" and {main[1].name} ({percent(main[1].share)})"
        )
    sentence += f" in your {where}"
    if history and liked and liked[0].name != history[0].name:
        sentence += f"; your likes lean to {liked[0].name} ({percent(liked[0].share)})"
    return sentence + "."


def genres_chart(insights: ListenerInsights, *, shown: int, urls: Links) -> Chart:
    history = insights.genres.history
    liked = insights.genres.liked
    history_by = {share.name: share.share for share in history}
    liked_by = {share.name: share.share for share in liked}
    # the genres that matter most in both lists together
    weight = {
        name: history_by.get(name, 0.0) + liked_by.get(name, 0.0)
        for name in {*history_by, *liked_by}
    }
    names = sorted(weight, key=lambda name: (-weight[name], name))
    named, rest = names[:shown], names[shown:]
    labels = list(named)
    history_values: list[float | int | None] = [history_by.get(name, 0.0) for name in named]
    liked_values: list[float | int | None] = [liked_by.get(name, 0.0) for name in named]
    if rest:
        labels.append("Other")
        history_values.append(sum(history_by.get(name, 0.0) for name in rest))
        liked_values.append(sum(liked_by.get(name, 0.0) for name in rest))
    return Chart(
        key="genres",
        kind="hbar",
        title="Your genres: history and likes",
        reading=genres_reading(history, liked),
        labels=labels,
        series=[
            Series(f"History ({insights.genres.history_tracks} tracks)", history_values),
            Series(f"Liked ({insights.genres.liked_tracks} tracks)", liked_values),
        ],
        value_format="percent",
        empty="No genres yet: add tracks to your history or like some, and their genres show here.",
        extra={"label_header": "Genre", **_empty(urls.search, "Search the catalog")},
    )


def trend_reading(periods: list[GenrePeriod], days: int) -> str:
    with_plays = [period for period in periods if period.plays and period.genres]
    if not with_plays:
        return ""
    last = with_plays[-1]
    last_shares = _shares(last)
    top = sorted(last_shares.items(), key=lambda item: (-item[1], item[0]))
    if top[0][1] >= MOSTLY or len(top) == 1:
        sentence = f"Lately mostly {top[0][0]} ({percent(top[0][1])} of plays)"
    else:
        sentence = f"Lately a wide mix, led by {top[0][0]} ({percent(top[0][1])} of plays)"
    if len(with_plays) > 1 and with_plays[0] is not last:
        first_shares = _shares(with_plays[0])
        names = set(first_shares) | set(last_shares)
        change = {name: last_shares.get(name, 0.0) - first_shares.get(name, 0.0) for name in names}
        riser = max(sorted(change), key=lambda name: change[name])
        if change[riser] >= PROFILE_DIFFERENCE:
            sentence += (
                f"; more {riser} than {days} days ago ({percent(last_shares.get(riser, 0.0))},"
                f" was {percent(first_shares.get(riser, 0.0))})"
            )
        else:
            sentence += f"; about the same mix as {days} days ago"
    return sentence + "."


def _shares(period: GenrePeriod) -> dict[str, float]:
    total = sum(period.genres.values())
    return {name: weight / total for name, weight in period.genres.items()} if total else {}


def _period_label(period: GenrePeriod) -> str:
    return f"{period.start.day} {period.start:%b} – {period.end.day} {period.end:%b}"


def trend_chart(insights: ListenerInsights, *, urls: Links) -> Chart:
    periods = insights.genre_periods
    totals: dict[str, float] = {}
    for period in periods:
        for name, weight in period.genres.items():
            totals[name] = totals.get(name, 0.0) + weight
    ordered = sorted(totals, key=lambda name: (-totals[name], name))
    named, rest = ordered[:TREND_GENRES], ordered[TREND_GENRES:]
    shares = [_shares(period) for period in periods]
    series = [
        Series(name, [share.get(name, 0.0) if share else None for share in shares])
        for name in named
    ]
    if rest:
        series.append(
            Series(
                "Other",
                [sum(share.get(name, 0.0) for name in rest) if share else None for share in shares],
            )
        )
    return Chart(
        key="genre-trend",
        kind="bar",
        title=f"How your genres changed (plays, last {insights.window_days} days)",
        reading=trend_reading(periods, insights.window_days),
        labels=[_period_label(period) for period in periods],
        series=series,
        value_format="percent",
        stacked=True,
        empty=f"No plays with a genre in the last {insights.window_days} days: play tracks or "
        "import your listening history to see how your taste moves.",
        extra={"label_header": "Period", "max": 1, **_empty(urls.imports, "Import plays")},
    )


# ---- audio features -----------------------------------------------------------------------------


def profile_reading(insights: ListenerInsights) -> str:
    mine = insights.profile.features
    average = insights.platform.features
    differences = []
    for name in PROFILE_FEATURES:
        value, other = mine.get(name), average.get(name)
        if value is None or other is None:
            continue
        if abs(value - other) >= PROFILE_DIFFERENCE:
            differences.append((abs(value - other), name, value > other))
    if all(value is None for value in mine.values()):
        return ""
    if insights.platform.listeners <= 1:
        return "You are the only listener so far: the average listener is you."
    if not differences:
        return "Close to the average listener on every feature."
    differences.sort(key=lambda item: (-item[0], item[1]))
    words = [FEATURE_WORDS[name][0 if more else 1] for _, name, more in differences[:2]]
    sentence = f"{_and(words).capitalize()} than the average listener"
    if insights.profile.tempo_bpm:
        sentence += f"; your tempo averages {insights.profile.tempo_bpm:.0f} BPM"
    return sentence + "."


def profile_chart(insights: ListenerInsights, *, urls: Links) -> Chart:
    labels = [FEATURE_LABELS[name] for name in PROFILE_FEATURES]
    mine = [insights.profile.features.get(name) for name in PROFILE_FEATURES]
    average = [insights.platform.features.get(name) for name in PROFILE_FEATURES]
    return Chart(
        key="profile",
        kind="radar",
        title="Your sound against the average listener",
        reading=profile_reading(insights),
        labels=labels,
        series=[Series("You", mine), Series("Average listener", average)]
        if any(value is not None for value in mine)
        else [Series("You", mine)],
        value_format="decimal",
        empty="No audio features yet: add tracks to your history, like some or play some.",
        extra={"label_header": "Feature (0–1)", "max": 1, **_empty(urls.search, "Find tracks")},
    )


# ---- listening over time ------------------------------------------------------------------------


def _day_label(day: dt.date) -> str:
    return f"{day.day} {day:%b}"


def days_reading(insights: ListenerInsights) -> str:
    counts = [count for _, count in insights.plays_per_day]
    total = sum(counts)
    if not total:
        return ""
    busiest_day, busiest = max(insights.plays_per_day, key=lambda item: (item[1], item[0]))
    active = sum(1 for count in counts if count)
    sentence = f"{count(total, 'play')} in the last {len(counts)} days"
    if active == 1:
        return sentence + f", all on {_day_label(busiest_day)}."
    return (
        sentence + f", on {active} different days; the most on {_day_label(busiest_day)} "
        f"({count(busiest, 'play')})."
    )


def days_chart(insights: ListenerInsights, *, urls: Links) -> Chart:
    return Chart(
        key="days",
        kind="line",
        title=f"Plays per day (last {insights.window_days} days)",
        reading=days_reading(insights),
        labels=[_day_label(day) for day, _ in insights.plays_per_day],
        series=[Series("Plays", [count for _, count in insights.plays_per_day])],
        empty=f"No plays in the last {insights.window_days} days: play tracks from your "
        "recommendations, or import your listening history.",
        extra={"label_header": "Day", **_empty(urls.imports, "Import your listening")},
    )


def hours_reading(insights: ListenerInsights) -> str:
    hours = insights.plays_per_hour
    if not any(hours):
        return ""
    peak = max(range(24), key=lambda hour: (hours[hour], -hour))
    return f"You listen most around {peak:02d}:00 ({insights.time_zone} time)."


def hours_chart(insights: ListenerInsights, *, urls: Links) -> Chart:
    return Chart(
        key="hours",
        kind="bar",
        title=f"Plays by hour of the day ({insights.time_zone})",
        reading=hours_reading(insights),
        labels=[f"{hour:02d}:00" for hour in range(24)],
        series=[Series("Plays", list(insights.plays_per_hour))],
        empty="No plays yet to place in the day: play tracks or import your listening history.",
        extra={"label_header": "Hour", **_empty(urls.imports, "Import your listening")},
    )


# ---- top artists and tracks ---------------------------------------------------------------------


def top_artists_chart(insights: ListenerInsights, *, urls: Links) -> Chart:
    top = insights.top_artists
    reading = ""
    if top:
        if len(top) > 1 and top[1].plays == top[0].plays:
            reading = f"{top[0].name} and {top[1].name} lead ({count(top[0].plays, 'play')} each)."
        else:
            reading = f"Your most played artist is {top[0].name} ({count(top[0].plays, 'play')})"
            if len(top) > 1:
                reading += f", then {top[1].name} ({top[1].plays})"
            reading += "."
    return Chart(
        key="top-artists",
        kind="hbar",
        title=f"Top artists (plays, last {insights.window_days} days)",
        reading=reading,
        labels=[count.name for count in top],
        series=[Series("Plays", [count.plays for count in top])],
        empty="No plays yet: play tracks and your favourite artists show here.",
        extra={"label_header": "Artist", **_empty(urls.home, "Your recommendations")},
    )


def top_tracks_chart(insights: ListenerInsights, *, urls: Links) -> Chart:
    top = insights.top_tracks
    reading = ""
    if top:
        by = f" by {top[0].detail}" if top[0].detail else ""
        reading = f"Your most played track is {top[0].name}{by} ({count(top[0].plays, 'play')})."
    return Chart(
        key="top-tracks",
        kind="hbar",
        title=f"Top tracks (plays, last {insights.window_days} days)",
        reading=reading,
        labels=[f"{count.name} — {count.detail}" if count.detail else count.name for count in top],
        series=[Series("Plays", [count.plays for count in top])],
        empty="No plays yet: play tracks and the ones you come back to show here.",
        extra={"label_header": "Track", **_empty(urls.home, "Your recommendations")},
    )


# ---- what the recommendations brought -----------------------------------------------------------


def brought_reading(insights: ListenerInsights) -> str:
    brought = insights.brought
    if not brought.count:
        liked = insights.totals.liked
        if not liked:
            return ""
        return (
            "Your like did not come through a recommendation yet."
            if liked == 1
            else f"None of your {liked} likes came through a recommendation yet."
        )
    sentence = f"Recommendations brought you {count(brought.count, 'track')} you kept"
    share = insights.liked_share_brought
    if share is not None:
        if brought.liked == insights.totals.liked == 1:
            sentence += "; your one like came from them"
        elif brought.liked == insights.totals.liked:
            sentence += f"; all {brought.liked} of your likes came from them"
        else:
            sentence += (
                f"; {brought.liked} of your {count(insights.totals.liked, 'like')}"
                f" ({percent(share)}) came from them"
            )
    return sentence + "."


def brought_chart(insights: ListenerInsights, *, urls: Links) -> Chart:
    liked = insights.totals.liked
    brought = insights.brought
    values: list[float | int | None] = [brought.liked, max(liked - brought.liked, 0)]
    # no like yet but tracks brought (added to the history or a playlist): show those instead
    labels = ["Met through recommendations", "Found elsewhere"]
    if not liked and brought.count:
        labels = ["Kept from recommendations"]
        values = [brought.count]
    return Chart(
        key="brought",
        kind="doughnut",
        title="Your likes: found through recommendations or elsewhere",
        reading=brought_reading(insights),
        labels=labels,
        series=[Series("Tracks", values)],
        empty="Nothing from your recommendations yet: like a recommended track, or add it to "
        "your history or a playlist, and it counts here.",
        extra={"label_header": "", **_empty(urls.home, "Your recommendations")},
    )


def listener_charts(insights: ListenerInsights, *, genres_shown: int) -> list[Chart]:
    """Every chart of the page, in the page's order."""
    urls = links()
    return [
        genres_chart(insights, shown=genres_shown, urls=urls),
        trend_chart(insights, urls=urls),
        profile_chart(insights, urls=urls),
        days_chart(insights, urls=urls),
        hours_chart(insights, urls=urls),
        top_artists_chart(insights, urls=urls),
        top_tracks_chart(insights, urls=urls),
        brought_chart(insights, urls=urls),
    ]
