"""Every change to a playlist: create, edit, delete; add, remove and move its tracks.

Locking: each change to an existing playlist first takes ``SELECT … FOR UPDATE`` on the
playlist's row, so changes to one playlist run one after the other (reading the ranks and
choosing a new one see a stable playlist) while other playlists are not affected. The database
backs it: (playlist, rank) and (playlist, track) are unique, so even a write that skipped the
lock could not store a duplicate place or a track twice. Creating a playlist locks the owner's
row (``accounts.services.listener_lock``) to count their playlists against the limit.

Refusals are ``ApplicationError`` with a ``code`` (the API's body, the pages' message) and
change nothing: ``not_found`` 404 (an unknown playlist, one the caller may not read, or a track
the catalog or the playlist does not have), ``forbidden`` 403 (another listener's public
playlist), ``already_in_playlist`` 409, ``playlist_full`` / ``playlist_limit_reached`` /
``invalid_order`` / ``invalid_position`` 400.

Tracks the listener adds by hand record an ``add_to_playlist`` interaction (a positive signal
for the recommender); tracks a generator picked do not (the recommender would learn from its
own picks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import listener_lock
from catalog.models import ID_MAX, Track
from history.models import Interaction
from history.services.interactions import interactions_record_many
from musicrec.errors import ApplicationError
from playlists.models import (
    PLAYLIST_TRACKS_MAX,
    PLAYLISTS_PER_LISTENER_MAX,
    RANK_STEP,
    Origin,
    Playlist,
    PlaylistTrack,
)
from playlists.selectors.playlists import playlist_owned

#: the fields a listener edits
EDITABLE = ("name", "description", "is_public")


def _locked(*, user: User, playlist_id: int) -> Playlist:
    """The playlist ``user`` owns (404 / 403 otherwise), locked until the transaction ends."""
    playlist_owned(user=user, playlist_id=playlist_id)
    return Playlist.objects.select_for_update().get(pk=playlist_id)


def _touch(playlist: Playlist) -> None:
    playlist.updated_at = timezone.now()
    playlist.save(update_fields=["updated_at"])


def _validated(playlist: Playlist, fields: Iterable[str]) -> None:
    """Run the model's validators of ``fields`` (ValidationError naming each bad one); a name
    of only spaces is refused as empty."""
    playlist.name = playlist.name.strip() if isinstance(playlist.name, str) else playlist.name
    exclude = [f.name for f in Playlist._meta.concrete_fields if f.name not in set(fields)]
    playlist.full_clean(exclude=exclude, validate_constraints=False)


def _tracks_exist(track_ids: Sequence[int]) -> None:
    known = set(
        Track.objects.filter(pk__in=[t for t in track_ids if 1 <= t <= ID_MAX]).values_list(
            "pk", flat=True
        )
    )
    missing = [t for t in dict.fromkeys(track_ids) if t not in known]
    if missing:
        raise ApplicationError(
            "Some tracks do not exist." if len(missing) > 1 else "No such track.",
            code="not_found",
            status=404,
            extra={"missing": missing},
        )


def _full(count: int, adding: int) -> ApplicationError:
    return ApplicationError(
        f"A playlist holds at most {PLAYLIST_TRACKS_MAX} tracks; this one has {count}, so "
        f"{adding} more do not fit. Nothing was added.",
        code="playlist_full",
        extra={"limit": PLAYLIST_TRACKS_MAX, "count": count, "requested": adding},
    )


@transaction.atomic
def playlist_create(
    *,
    owner: User,
    name: str,
    description: str = "",
    is_public: bool = False,
    origin: str = Origin.MANUAL,
    origin_parameters: Mapping[str, Any] | None = None,
    track_ids: Sequence[int] = (),
) -> Playlist:
    """A new playlist of ``owner``'s, with ``track_ids`` in that order (repeats dropped: a
    track is in a playlist once; none recorded as an interaction — the callers that add on the
    listener's behalf, a generator or an import, say what they record). ``ValidationError``
    naming a bad field; ``playlist_limit_reached`` at the owner's limit; ``playlist_full`` and
    ``not_found`` (unknown tracks) as for adding."""
    playlist = Playlist(
        owner=owner,
        name=name,
        description=description,
        is_public=is_public,
        origin=origin,
        origin_parameters=dict(origin_parameters or {}),
    )
    _validated(playlist, (*EDITABLE, "origin"))
    ids = list(dict.fromkeys(track_ids))
    if len(ids) > PLAYLIST_TRACKS_MAX:
        raise _full(0, len(ids))
    _tracks_exist(ids)
    listener_lock(user=owner)
    owned = Playlist.objects.filter(owner=owner).count()
    if owned >= PLAYLISTS_PER_LISTENER_MAX:
        raise ApplicationError(
            f"You have {owned} playlists, the most one listener keeps. Delete one to make another.",
            code="playlist_limit_reached",
            extra={"limit": PLAYLISTS_PER_LISTENER_MAX, "count": owned},
        )
    playlist.save()
    PlaylistTrack.objects.bulk_create(
        PlaylistTrack(playlist=playlist, track_id=track_id, rank=(i + 1) * RANK_STEP)
        for i, track_id in enumerate(ids)
    )
    return playlist


@transaction.atomic
def playlist_update(*, user: User, playlist_id: int, **changes: Any) -> Playlist:
    """Change the name, description or visibility of ``user``'s playlist. ``ValidationError``
    naming an unknown or bad field; nothing is stored then."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    playlist = _locked(user=user, playlist_id=playlist_id)
    for name, value in changes.items():
        setattr(playlist, name, value)
    _validated(playlist, changes)
    playlist.updated_at = timezone.now()
    playlist.save(update_fields=[*changes, "updated_at"])
    return playlist


@transaction.atomic
def playlist_delete(*, user: User, playlist_id: int) -> None:
    """Delete ``user``'s playlist and its entries."""
    _locked(user=user, playlist_id=playlist_id).delete()


@dataclass(frozen=True)
class TracksAdded:
    playlist: Playlist
    added: list[int]  # the track ids added, in playlist order
    count: int  # tracks in the playlist now


def _ranks(playlist: Playlist) -> list[tuple[int, int]]:
    """(track id, rank) of every entry, in order."""
    return list(
        PlaylistTrack.objects.filter(playlist=playlist)
        .order_by("rank")
        .values_list("track_id", "rank")
    )


def _renumber(playlist: Playlist, track_ids: Sequence[int]) -> None:
    """Give the entries ranks ``RANK_STEP`` apart in the order of ``track_ids`` (every entry
    of the playlist): one UPDATE."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {PlaylistTrack._meta.db_table} AS entry
               SET rank = new.place * %s
              FROM unnest(%s::bigint[]) WITH ORDINALITY AS new(track_id, place)
             WHERE entry.playlist_id = %s AND entry.track_id = new.track_id
            """,
            [RANK_STEP, list(track_ids), playlist.pk],
        )


def _rank_between(before: int | None, after: int | None) -> int | None:
    """A rank strictly between two neighbours' (None = no neighbour on that side), or None
    when there is no integer between them."""
    if before is None and after is None:
        return RANK_STEP
    if before is None:
        assert after is not None
        return after - RANK_STEP
    if after is None:
        return before + RANK_STEP
    middle = (before + after) // 2
    return middle if before < middle < after else None


def _insert_ranks(
    playlist: Playlist, order: list[tuple[int, int]], new: Sequence[int], position: int
) -> list[tuple[int, int]] | None:
    """Ranks for ``new`` tracks placed before the entry at 0-based ``position`` (the end when
    ``position`` is the length), or None when the gap is too small (renumber first)."""
    before = order[position - 1][1] if position > 0 else None
    after = order[position][1] if position < len(order) else None
    if after is None:
        start = before if before is not None else 0
        return [(t, start + (i + 1) * RANK_STEP) for i, t in enumerate(new)]
    low = before if before is not None else after - (len(new) + 1) * RANK_STEP
    gap = (after - low) // (len(new) + 1)
    if gap < 1:
        return None
    return [(t, low + (i + 1) * gap) for i, t in enumerate(new)]


def _position(position: int | None, length: int, *, inserting: bool) -> int:
    """A 1-based position checked against the playlist's length (one more when inserting),
    as a 0-based index; None = the end."""
    last = length + 1 if inserting else length
    if position is None:
        return length if inserting else length - 1
    if isinstance(position, bool) or not isinstance(position, int) or not 1 <= position <= last:
        raise ApplicationError(
            f"The position must be a whole number from 1 to {max(last, 1)}.",
            code="invalid_position",
            extra={"position": position, "last": max(last, 1)},
        )
    return position - 1


@transaction.atomic
def playlist_tracks_add(
    *,
    user: User,
    playlist_id: int,
    track_ids: Sequence[int],
    position: int | None = None,
    record: bool = True,
) -> TracksAdded:
    """Add tracks to ``user``'s playlist, in this order, at the 1-based ``position`` (the end
    by default). A track already there is refused (``already_in_playlist`` 409: a track is in a
    playlist once), an unknown one is ``not_found``, more than the playlist holds
    ``playlist_full``: all or nothing. Each added track records an ``add_to_playlist``
    interaction unless ``record`` is False (a generator's or an import's picks)."""
    ids = list(track_ids)
    if not ids:
        raise ApplicationError("Name at least one track to add.", code="invalid")
    if len(set(ids)) != len(ids):
        raise ApplicationError(
            "A track is in a playlist only once: the request names one twice.",
            code="already_in_playlist",
            status=409,
            extra={"track_ids": sorted({t for t in ids if ids.count(t) > 1})},
        )
    _tracks_exist(ids)
    playlist = _locked(user=user, playlist_id=playlist_id)
    order = _ranks(playlist)
    present = sorted({t for t, _ in order} & set(ids))
    if present:
        raise ApplicationError(
            "That track is already in this playlist."
            if len(present) == 1
            else "Some of these tracks are already in this playlist.",
            code="already_in_playlist",
            status=409,
            extra={"track_ids": present},
        )
    if len(order) + len(ids) > PLAYLIST_TRACKS_MAX:
        raise _full(len(order), len(ids))
    index = _position(position, len(order), inserting=True)
    placed = _insert_ranks(playlist, order, ids, index)
    if placed is None:
        _renumber(playlist, [t for t, _ in order])
        order = _ranks(playlist)
        placed = _insert_ranks(playlist, order, ids, index)
        assert placed is not None  # RANK_STEP apart leaves room for PLAYLIST_TRACKS_MAX
    PlaylistTrack.objects.bulk_create(
        PlaylistTrack(playlist=playlist, track_id=track_id, rank=rank) for track_id, rank in placed
    )
    _touch(playlist)
    if record:
        interactions_record_many(user=user, track_ids=ids, kind=Interaction.Kind.ADD_TO_PLAYLIST)
    return TracksAdded(playlist=playlist, added=ids, count=len(order) + len(ids))


@transaction.atomic
def playlist_track_remove(*, user: User, playlist_id: int, track_id: int) -> int:
    """Remove a track from ``user``'s playlist (``not_found`` when it is not in it); how many
    tracks are left. The others keep their ranks: positions close up by themselves."""
    playlist = _locked(user=user, playlist_id=playlist_id)
    deleted, _ = PlaylistTrack.objects.filter(playlist=playlist, track_id=track_id).delete()
    if not deleted:
        raise ApplicationError("That track is not in this playlist.", code="not_found", status=404)
    _touch(playlist)
    return PlaylistTrack.objects.filter(playlist=playlist).count()


@transaction.atomic
def playlist_reorder(*, user: User, playlist_id: int, track_ids: Sequence[int]) -> list[int]:
    """Put ``user``'s playlist in the order of ``track_ids``, which must name every track of
    it exactly once (``invalid_order`` naming what is missing, unexpected or repeated, and
    nothing changes). One UPDATE; the new order."""
    playlist = _locked(user=user, playlist_id=playlist_id)
    current = [t for t, _ in _ranks(playlist)]
    wanted = list(track_ids)
    repeated = sorted({t for t in wanted if wanted.count(t) > 1})
    missing = sorted(set(current) - set(wanted))
    unexpected = sorted(set(wanted) - set(current))
    if repeated or missing or unexpected:
        raise ApplicationError(
            "The order must name every track of the playlist exactly once. Nothing was changed.",
            code="invalid_order",
            extra={"missing": missing, "unexpected": unexpected, "repeated": repeated},
        )
    if wanted != current:
        _renumber(playlist, wanted)
        _touch(playlist)
    return wanted


@transaction.atomic
def playlist_track_move(*, user: User, playlist_id: int, track_id: int, position: int) -> list[int]:
    """Move one track of ``user``'s playlist to the 1-based ``position`` (1 = first, the
    playlist's length = last; ``invalid_position`` outside, ``not_found`` for a track not in
    it). Usually one row is written: the moved entry's rank; the new order."""
    playlist = _locked(user=user, playlist_id=playlist_id)
    order = _ranks(playlist)
    current = [t for t, _ in order]
    if track_id not in current:
        raise ApplicationError("That track is not in this playlist.", code="not_found", status=404)
    index = _position(position, len(order), inserting=False)
    if current.index(track_id) == index:
        return current
    others = [(t, r) for t, r in order if t != track_id]
    before = others[index - 1][1] if index > 0 else None
    after = others[index][1] if index < len(others) else None
    rank = _rank_between(before, after)
    wanted = [t for t, _ in others]
    wanted.insert(index, track_id)
    if rank is None:
        _renumber(playlist, wanted)
    else:
        PlaylistTrack.objects.filter(playlist=playlist, track_id=track_id).update(rank=rank)
    _touch(playlist)
    return wanted
