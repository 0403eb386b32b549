"""Template tags of the recommender, for its own pages and for the catalog's and accounts'
templates (a template may load a higher layer's tags: no Python import goes down → up).

* ``{% opinions_of_listener tracks as opinions %}``: which of ``tracks`` the signed-in listener
  likes and dislikes (``opinions.liked`` / ``opinions.disliked``, sets of ids), one query;
* ``{% blocked_artists_of_listener as blocks %}``: the profile's blocked artists;
* ``{% similar_to_track track as similar %}``: the track page's similar tracks;
* ``confidence|confidence_words``, ``confidence|percent``, ``source|source_words``: a result's
  numbers said in words a person reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.conf import settings
from django.db.models import Model

from recommendations.selectors.pages import Opinions, artist_block_list, listener_opinions

register = template.Library()

#: (lowest confidence, words), highest first: what a listener reads instead of a number.
CONFIDENCE_WORDS = (
    (0.75, "Strong match"),
    (0.5, "Good match"),
    (0.25, "Worth a try"),
    (0.0, "Something different"),
)

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


@register.simple_tag
def similar_to_track(track: Any) -> list[Any] | None:
    """The tracks most similar to ``track`` with their reasons, or ``None`` when the
    recommender cannot say yet.

    LEAD: ``recommendations.selectors.similar.similar_tracks(track_id=, n=)`` is written by the
    catalog-API helper of #12 (branch not merged into ``pages`` when this was written). Once it
    is on main, drop the ImportError guard below; ``recommendations/_similar_tracks.html``
    reads each item as ``item.track`` (a Track or TrackSerializer dict) and ``item.reasons``
    (``{"text"}`` dicts or strings).
    """
    try:
        from recommendations.selectors.similar import similar_tracks  # type: ignore[import-not-found]
    except ImportError:  # not merged yet (see above)
        return None
    return list(
        similar_tracks(track_id=_track_id(track), n=settings.RECOMMENDER["pages"]["similar_tracks"])
    )


@register.filter
def confidence_words(confidence: float | None) -> str:
    value = float(confidence or 0.0)
    return next(words for lowest, words in CONFIDENCE_WORDS if value >= lowest)


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
