"""Template tags of the recommender, for its own pages and for the catalog's and accounts'
templates (a template may load a higher layer's tags: no Python import goes down → up).

* ``{% opinions_of_listener tracks as opinions %}``: which of ``tracks`` the signed-in listener
  likes and dislikes (``opinions.liked`` / ``opinions.disliked``, sets of ids), one query;
* ``{% blocked_artists_of_listener as blocks %}``: the profile's blocked artists;
* ``{% similar_to_track track as similar %}``: the track page's similar tracks;
* ``confidence|confidence_words``, ``result|match_words``, ``confidence|hit_rate_words``,
  ``confidence|percent``, ``source|source_words``, ``discovery|discovery_words``: a result's
  numbers said in words a person reads;
* ``items|tracks_of``: the tracks of a list of similar tracks (for ``opinions_of_listener``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.conf import settings
from django.db.models import Model

from accounts.selectors import artist_block_list
from recommendations.selectors.pages import Opinions, listener_opinions
from recommendations.selectors.similar import similar_tracks

register = template.Library()

#: Words for where a result's confidence stands among what the recommender serves, highest
#: first, with the share of served results (best first) each covers. ``confidence`` is a
#: calibrated hit rate (RECOMMENDER["ensemble"]["calibration"]: an isotonic fit over 20
#: equal-count bins of served scores on validation), so it is small (at most ~0.08) and a
#: fixed scale such as 0.75 would call everything weak: the words are placed by the bins
#: instead — the top 20 % of served results a "Strong match", the next 30 % "Good", …
CONFIDENCE_WORDS = (
    (0.20, "Strong match"),
    (0.50, "Good match"),
    (0.80, "Worth a try"),
    (1.00, "A long shot"),
)


def _calibration_values() -> list[float]:
    calibration = settings.RECOMMENDER.get("ensemble", {}).get("calibration") or {}
    return [float(v) for v in calibration.get("values", [])] or [0.0, 1.0]


def _confidence_floor(top_share: float) -> float:
    """The lowest confidence of the best ``top_share`` of served results (by the bins)."""
    values = _calibration_values()
    index = min(len(values) - 1, max(0, round(len(values) * (1.0 - top_share))))
    return values[index]


SOURCE_WORDS = {
    "collaborative": "listeners with taste like yours",
    "content": "how it sounds",
    "demographic": "listeners like you",
    "popularity": "what is popular now",
}


def _user(context: template.Context) -> Any:
    request = context.get("request")
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _track_id(track: Any) -> int:
    if isinstance(track, dict):
        return int(track["id"])
    return int(track.pk)


@register.simple_tag(takes_context=True)
def opinions_of_listener(context: template.Context, tracks: Iterable[Any] | Model) -> Opinions:
    """``tracks``: tracks (models or payload dicts), or one track."""
    user = _user(context)
    if user is None:
        return Opinions()
    many = [tracks] if isinstance(tracks, Model | dict) else list(tracks)
    return listener_opinions(user=user, track_ids=[_track_id(track) for track in many])


@register.simple_tag(takes_context=True)
def blocked_artists_of_listener(context: template.Context) -> list[Any]:
    user = _user(context)
    return [] if user is None else artist_block_list(user=user)


@register.simple_tag(takes_context=True)
def similar_to_track(context: template.Context, track: Any) -> list[Any] | None:
    """The tracks most similar to ``track`` (``selectors.similar.similar_tracks``: content and
    collaborative neighbours, each with its reasons; for a signed-in listener without their
    blocked artists and disliked tracks), or ``None`` when there are none."""
    found = similar_tracks(
        track_id=_track_id(track),
        n=settings.RECOMMENDER["pages"]["similar_tracks"],
        user=_user(context),
    )
    return found.items or None


@register.filter
def confidence_words(confidence: float | None) -> str:
    value = float(confidence or 0.0)
    for share, words in CONFIDENCE_WORDS:
        if value >= _confidence_floor(share):
            return words
    return CONFIDENCE_WORDS[-1][1]


#: The sources that know something of the listener (their history, likes, genres' tracks,
#: demographics). A result none of them scored was picked for being popular alone.
PERSONAL_SOURCES = ("collaborative", "content", "demographic")


@register.filter
def match_words(result: dict[str, Any]) -> str:
    """How well a served result fits the listener, in words. A result that only popularity
    scored (a new listener's list, before any history or like) is a "Popular pick": the
    calibration was fitted on listeners with a history, so "Strong match" would promise a fit
    to a taste nobody knows yet."""
    sources = result.get("sources") or {}
    if not any(float(sources.get(name) or 0.0) > 0 for name in PERSONAL_SOURCES):
        return "Popular pick"
    return confidence_words(result.get("confidence"))


@register.filter
def hit_rate_words(confidence: float | None) -> str:
    """The calibrated confidence (a hit rate) as a person says it."""
    per_hundred = round(float(confidence or 0.0) * 100)
    if per_hundred < 1:
        return "fewer than 1 in 100"
    return f"about {per_hundred} in 100"


#: Words for the discovery setting (0 familiar … 1 new), by the highest value each covers.
DISCOVERY_WORDS = (
    (0.0, "as familiar as it gets"),
    (0.3, "mostly familiar"),
    (0.69, "balanced"),
    (0.99, "mostly new to you"),
    (1.0, "as new as it gets"),
)


@register.filter
def discovery_words(discovery: float | None) -> str:
    value = float(0.5 if discovery is None else discovery)
    for highest, words in DISCOVERY_WORDS:
        if value <= highest:
            return words
    return DISCOVERY_WORDS[-1][1]


@register.filter
def tracks_of(items: Iterable[Any] | None) -> list[Any]:
    """The ``track`` of each item (similar tracks: objects or dicts)."""
    return [item["track"] if isinstance(item, dict) else item.track for item in items or ()]


@register.filter
def confidence_meter(confidence: float | None) -> str:
    """The confidence on a 0–1 meter whose full scale is the highest calibrated confidence."""
    top = max(_calibration_values()) or 1.0
    return f"{min(1.0, max(0.0, float(confidence or 0.0) / top)):f}"


@register.filter
def percent(value: float | None) -> int:
    return round(float(value or 0.0) * 100)


@register.filter
def source_words(source: str) -> str:
    return SOURCE_WORDS.get(source, source)


@register.filter
def strongest_sources(sources: dict[str, float] | None, limit: int = 2) -> list[str]:
    """The names of the sources that scored a result highest (those that scored at all)."""
    ranked = sorted((sources or {}).items(), key=lambda item: item[1], reverse=True)
    return [name for name, score in ranked[:limit] if score > 0]


@register.filter
def track_artists(track: Any) -> list[Any]:
    """A track's credited artists, whether a Track or a TrackSerializer dict."""
    if isinstance(track, dict):
        return list(track.get("artists") or [])
    return list(track.artist_list)
