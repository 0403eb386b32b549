"""Reads for the playlist pages: a listener's public page, the "add to playlist" menus, the
generate form's pickers."""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.models import User
from catalog.models import ID_MAX, Artist, Track
from catalog.selectors import track_get
from musicrec.errors import ApplicationError
from playlists.models import Playlist, PlaylistTrack


@dataclass(frozen=True)
class PlaylistChoice:
    id: int
    name: str


@dataclass
class PlaylistMenus:
    """The signed-in listener's playlists (most recently changed first) and, per track id,
    which of them already hold it: what each "add to playlist" menu of a page shows."""

    playlists: list[PlaylistChoice] = field(default_factory=list)
    containing: dict[int, set[int]] = field(default_factory=dict)

    def holding(self, track_id: int) -> set[int]:
        return self.containing.get(track_id, set())


def playlist_menus(*, user: User, track_ids: list[int]) -> PlaylistMenus:
    """Two queries whatever the number of tracks: the playlists, and which hold which track."""
    playlists = [
        PlaylistChoice(id=pk, name=name)
        for pk, name in Playlist.objects.filter(owner=user)
        .order_by("-updated_at", "-id")
        .values_list("pk", "name")
    ]
    containing: dict[int, set[int]] = {track_id: set() for track_id in track_ids}
    if playlists and track_ids:
        for playlist_id, track_id in PlaylistTrack.objects.filter(
            playlist__owner=user, track_id__in=track_ids
        ).values_list("playlist_id", "track_id"):
            containing[track_id].add(playlist_id)
    return PlaylistMenus(playlists=playlists, containing=containing)


def picked_track(*, track_id: int | None) -> Track | None:
    """A track chosen in a picker of the generate form (None when none or unknown: the form
    then asks again)."""
    if not track_id or not 1 <= track_id <= ID_MAX:
        return None
    try:
        return track_get(track_id=track_id)
    except ApplicationError:
        return None


def picked_artist(*, artist_id: int | None) -> Artist | None:
    if not artist_id or not 1 <= artist_id <= ID_MAX:
        return None
    return Artist.objects.filter(pk=artist_id).first()
