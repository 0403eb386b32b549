"""Template tags of the playlists, for their own pages and for the pages of the layers below
(the catalog's and the recommender's templates load them by name through
``templates/includes/add_to_playlist.html``: no Python import goes down → up).

* ``{% playlist_menu track as menu %}``: the signed-in listener's playlists and which of them
  already hold ``track`` (``menu.playlists``, ``menu.holding``). The page's other tracks (the
  ``tracks`` of a track list, the ``served.results`` of the home page) are looked up in the same
  query, and the answer is kept on the request: a page of 20 tracks costs two queries, not 40.
* ``origin|origin_words``: how a playlist was made, in words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import template

from playlists.models import Origin
from playlists.selectors.pages import PlaylistChoice, PlaylistMenus, playlist_menus

register = template.Library()

_CACHE = "_playlist_menus"


@dataclass(frozen=True)
class Menu:
    playlists: list[PlaylistChoice]
    holding: set[int]

    @property
    def addable(self) -> list[PlaylistChoice]:
        return [p for p in self.playlists if p.id not in self.holding]

    @property
    def held(self) -> list[PlaylistChoice]:
        return [p for p in self.playlists if p.id in self.holding]


def _track_id(track: Any) -> int | None:
    value = track.get("id") if isinstance(track, dict) else getattr(track, "pk", None)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _page_track_ids(context: template.Context) -> list[int]:
    """The ids of the other tracks the page lists (so one query answers for all of them)."""
    found: list[Any] = []
    tracks = context.get("tracks")
    if isinstance(tracks, Iterable) and not isinstance(tracks, str | dict):
        found.extend(tracks)
    served = context.get("served")
    if isinstance(served, dict):
        found.extend(result.get("track", {}) for result in served.get("results", []))
    similar = context.get("similar")
    if isinstance(similar, Iterable) and not isinstance(similar, str | dict):
        found.extend(getattr(item, "track", None) for item in similar)
    return [i for i in (_track_id(t) for t in found if t is not None) if i is not None]


@register.simple_tag(takes_context=True)
def playlist_menu(context: template.Context, track: Any) -> Menu | None:
    request = context.get("request")
    user = getattr(request, "user", None)
    track_id = _track_id(track)
    if request is None or user is None or not user.is_authenticated or track_id is None:
        return None
    menus: PlaylistMenus | None = getattr(request, _CACHE, None)
    if menus is None or track_id not in menus.containing:
        ids = list(dict.fromkeys([track_id, *_page_track_ids(context)]))
        fresh = playlist_menus(user=user, track_ids=ids)
        if menus is not None:  # keep what was read: the playlists do not change mid-page
            fresh.containing.update(menus.containing)
        menus = fresh
        setattr(request, _CACHE, menus)
    return Menu(playlists=menus.playlists, holding=menus.holding(track_id))


@register.filter
def origin_words(origin: str) -> str:
    try:
        return str(Origin(origin).label)
    except ValueError:
        return str(origin)


@register.filter
def urlencode_dict(params: dict[str, Any]) -> str:
    """A query string of ``params`` (the picker's links back to the generate form)."""
    return urlencode({key: str(value) for key, value in params.items()})
