"""Reads of playlists, and who may read or change one.

A playlist is visible to its owner, and to every signed-in listener when it is public (and
its owner's account active). A playlist the caller may not see is "not found" (404: a private
playlist's existence is not revealed); one they may see but do not own is "forbidden" to change
(403). Anonymous callers see nothing (the API answers 401, the pages send them to sign in).
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from accounts.models import User
from catalog.models import ID_MAX
from catalog.selectors import track_list
from musicrec.errors import ApplicationError
from playlists.models import Playlist, PlaylistTrack


def _not_found() -> ApplicationError:
    return ApplicationError("No such playlist.", code="not_found", status=404)


def _visible_to(viewer: User) -> Q:
    if not viewer.is_authenticated:
        return Q(pk__in=[])
    # a deactivated listener is "no such listener" (``playlist_owner_get``): their public
    # playlists are not readable one by one either
    return Q(owner=viewer) | Q(is_public=True, owner__is_active=True)


def playlists_with_totals(queryset: QuerySet[Playlist]) -> QuerySet[Playlist]:
    """``track_count`` and ``duration_ms`` (the sum of the tracks') on each, and the owner
    loaded: what every list of playlists shows, in one query whatever the page size."""
    return queryset.select_related("owner").annotate(
        track_count=Count("entries"),
        duration_ms=Coalesce(Sum("entries__track__duration_ms"), 0),
    )


def playlist_list(*, viewer: User, owner: User | None = None) -> QuerySet[Playlist]:
    """Playlists ``viewer`` may read, most recently changed first: of one ``owner`` (all of
    the viewer's own; only the public ones of another), or, without ``owner``, the viewer's own.
    With totals (:func:`playlists_with_totals`)."""
    owner = owner or viewer
    queryset = Playlist.objects.filter(_visible_to(viewer), owner=owner)
    # explicit: Meta.ordering is not applied to a query with GROUP BY (the totals)
    return playlists_with_totals(queryset).order_by("-updated_at", "-id")


def playlist_get(*, viewer: User, playlist_id: int) -> Playlist:
    """The playlist if ``viewer`` may read it (with totals); ``ApplicationError`` 404
    otherwise."""
    if not 1 <= playlist_id <= ID_MAX:
        raise _not_found()
    playlist = playlists_with_totals(
        Playlist.objects.filter(_visible_to(viewer), pk=playlist_id)
    ).first()
    if playlist is None:
        raise _not_found()
    return playlist


def playlist_owned(*, user: User, playlist_id: int) -> Playlist:
    """The playlist if ``user`` owns it: 404 when they may not even read it, 403 when they may
    read it (public) but it is another listener's."""
    playlist = playlist_get(viewer=user, playlist_id=playlist_id)
    if playlist.owner_id != user.pk:
        raise ApplicationError(
            "Only the owner can change this playlist.", code="forbidden", status=403
        )
    return playlist


def playlist_entries(*, playlist: Playlist) -> list[PlaylistTrack]:
    """The playlist's entries in order, each with its track (album, artists, genres loaded)
    and its 1-based ``position``: a constant number of queries whatever the length."""
    entries = list(
        PlaylistTrack.objects.filter(playlist=playlist)
        .order_by("rank")
        .prefetch_related(Prefetch("track", queryset=track_list()))
    )
    for position, entry in enumerate(entries, start=1):
        entry.position = position  # type: ignore[attr-defined]
    return entries


def playlist_track_ids(*, playlist_id: int) -> list[int]:
    """The playlist's track ids in order (no permission check: callers have made it)."""
    return list(
        PlaylistTrack.objects.filter(playlist_id=playlist_id)
        .order_by("rank")
        .values_list("track_id", flat=True)
    )
