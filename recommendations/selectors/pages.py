"""Reads of the recommendation pages (the signed-in home, the feedback buttons on catalog
pages, the profile's blocked artists). The list itself is served by
``recommendations.services.lists.recommendation_list_serve``, the one path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from accounts.models import ArtistBlock, GenrePreference, User
from catalog.models import Track
from catalog.selectors import track_list, tracks_in_order
from history.models import Opinion
from history.selectors.interactions import opinion_of
from recommendations.selectors.popularity import trending_tracks


def home_trending(*, limit: int, user: User | None = None) -> list[Track]:
    """The ``limit`` most trending tracks (the popularity view over all genres), best first;
    before the view has any row (a new site, no plays yet), the catalog's most popular. For a
    listener, without the tracks they disliked or whose artists they blocked."""
    ranked = [row.track_id for row in trending_tracks(genre_id=None, limit=2 * limit)]
    if ranked:
        tracks = tracks_in_order(track_ids=ranked)
    else:
        tracks = list(track_list().order_by("-popularity", "id")[: 2 * limit])
    if user is not None and user.is_authenticated:
        blocked = set(ArtistBlock.objects.filter(user=user).values_list("artist_id", flat=True))
        disliked = listener_opinions(user=user, track_ids=[t.pk for t in tracks]).disliked
        tracks = [
            t
            for t in tracks
            if t.pk not in disliked and not {a.pk for a in t.artist_list} & blocked
        ]
    return tracks[:limit]


@dataclass(frozen=True)
class Opinions:
    """Which of a page's tracks the listener likes and dislikes."""

    liked: frozenset[int] = frozenset()
    disliked: frozenset[int] = frozenset()


def listener_opinions(*, user: User, track_ids: Iterable[int]) -> Opinions:
    values = opinion_of(user=user, track_ids=track_ids)
    return Opinions(
        liked=frozenset(t for t, v in values.items() if v == Opinion.Value.LIKE),
        disliked=frozenset(t for t, v in values.items() if v == Opinion.Value.DISLIKE),
    )


def listener_has_preferred_genres(*, user: User) -> bool:
    """Whether the listener picked genres they like (the home page says what a list without
    history starts from)."""
    return GenrePreference.objects.filter(user=user, kind=GenrePreference.Kind.PREFERRED).exists()
