"""Every change to a listener's 50-track history.

Locking: each write first takes ``SELECT … FOR UPDATE`` on the listener's row in
``accounts_user``. Writes to one history are therefore serialised (other listeners are not
affected), so counting the entries and choosing a free slot see a stable history. The database
backs this with a unique (user, slot) in 1–50 and a unique (user, track): even a write that
skipped the lock could not store a 51st entry or a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from accounts.services import listener_lock
from catalog.models import ID_MAX, Track
from catalog.selectors import track_get
from history.models import HISTORY_LIMIT, HISTORY_WARNING_FROM, HistoryEntry
from musicrec.errors import ApplicationError
from musicrec.taste import TasteChange, taste_changed_on_commit


@dataclass(frozen=True)
class HistoryChange:
    entry: HistoryEntry | None
    count: int
    added: int = 0  # how many entries this change added

    @property
    def created(self) -> bool:
        return self.added > 0

    @property
    def remaining(self) -> int:
        return HISTORY_LIMIT - self.count

    @property
    def warning(self) -> str | None:
        return history_warning(count=self.count)


def history_warning(*, count: int) -> str | None:
    """From the add that brings the count to 45 on: how many slots are left."""
    if count < HISTORY_WARNING_FROM:
        return None
    left = HISTORY_LIMIT - count
    return f"{left} slot{'' if left == 1 else 's'} remaining"


def _full_error(count: int) -> ApplicationError:
    return ApplicationError(
        f"Your history is full ({HISTORY_LIMIT} tracks). Remove a track or clear the history "
        "to add another.",
        code="history_limit_reached",
        extra={"limit": HISTORY_LIMIT, "count": count},
    )


@transaction.atomic
def history_entry_add(*, user: User, track_id: int) -> HistoryChange:
    """Add a track to the listener's history (locks the listener's row).

    A track already there comes back unchanged (``created`` False) and uses no slot, even when
    the history is full. A 51st entry is refused with ``history_limit_reached``. The entry's
    track comes with its album, artists and genres loaded.
    """
    track = track_get(track_id=track_id)  # with album, artists, genres: what answers show
    listener_lock(user=user)
    slots = dict(HistoryEntry.objects.filter(user=user).values_list("track_id", "slot"))
    used = set(slots.values())
    if track.pk in slots:
        existing = HistoryEntry.objects.get(user=user, track=track)
        existing.track = track
        return HistoryChange(entry=existing, count=len(used))
    if len(used) >= HISTORY_LIMIT:
        raise _full_error(len(used))
    slot = min(set(range(1, HISTORY_LIMIT + 1)) - used)
    entry = HistoryEntry.objects.create(user=user, track=track, slot=slot)
    taste_changed_on_commit(user_id=user.pk, reason=TasteChange.HISTORY)
    return HistoryChange(entry=entry, count=len(used) + 1, added=1)


@transaction.atomic
def history_entries_add(*, user: User, track_ids: Iterable[int]) -> HistoryChange:
    """Add several tracks at once, all or nothing against the limit (locks the listener's row).

    Tracks already in the history are skipped; if the new ones do not all fit, none is added.
    """
    ids = list(dict.fromkeys(track_ids))
    tracks = Track.objects.only("id").in_bulk([i for i in ids if 1 <= i <= ID_MAX])
    missing = [track_id for track_id in ids if track_id not in tracks]
    if missing:
        raise ApplicationError(
            "Some tracks do not exist.", code="not_found", status=404, extra={"missing": missing}
        )
    listener_lock(user=user)
    present = set(
        HistoryEntry.objects.filter(user=user, track_id__in=ids).values_list("track_id", flat=True)
    )
    used = set(HistoryEntry.objects.filter(user=user).values_list("slot", flat=True))
    new = [track_id for track_id in ids if track_id not in present]
    if len(used) + len(new) > HISTORY_LIMIT:
        raise ApplicationError(
            f"Only {HISTORY_LIMIT - len(used)} slots are free; {len(new)} tracks do not fit. "
            "Nothing was added.",
            code="history_limit_reached",
            extra={"limit": HISTORY_LIMIT, "count": len(used), "requested": len(new)},
        )
    free = sorted(set(range(1, HISTORY_LIMIT + 1)) - used)
    HistoryEntry.objects.bulk_create(
        [
            HistoryEntry(user=user, track_id=track_id, slot=slot)
            for track_id, slot in zip(new, free, strict=False)
        ]
    )
    if new:
        taste_changed_on_commit(user_id=user.pk, reason=TasteChange.HISTORY)
    return HistoryChange(entry=None, count=len(used) + len(new), added=len(new))


@transaction.atomic
def history_entry_remove(*, user: User, entry_id: int) -> int:
    """Remove one of the listener's entries; another listener's id is "not found"."""
    listener_lock(user=user)
    deleted, _ = HistoryEntry.objects.filter(user=user, pk=entry_id).delete()
    if not deleted:
        raise ApplicationError(
            "No entry with this id in your history.", code="not_found", status=404
        )
    taste_changed_on_commit(user_id=user.pk, reason=TasteChange.HISTORY)
    return HistoryEntry.objects.filter(user=user).count()


@transaction.atomic
def history_clear(*, user: User) -> int:
    """Remove every entry; return how many there were."""
    listener_lock(user=user)
    deleted, _ = HistoryEntry.objects.filter(user=user).delete()
    if deleted:
        taste_changed_on_commit(user_id=user.pk, reason=TasteChange.HISTORY)
    return deleted
