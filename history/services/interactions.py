"""Writes of the interaction event log and the listener's like/dislike opinions (reads are in
``history.selectors.interactions``).

Events (play, skip, like, dislike, add_to_playlist) are an append-only log that popularity,
skip detection and training read; they are pruned after ``INTERACTION_RETENTION_DAYS``
(counted from when musicrec *recorded* them). A like or dislike is also the listener's current
opinion of the track, kept in its own table and never pruned.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.validators import Activity, Mood
from catalog.models import Track
from catalog.selectors import track_get
from history.models import Interaction, Opinion
from history.selectors.interactions import impression_owned
from musicrec.errors import ApplicationError
from musicrec.retention import rows_delete_before
from musicrec.taste import TasteChange, taste_changed_on_commit

# listened_ms may exceed the track's duration a little (players report the time with a delay,
# buffering, a seek back …): by 10 % of the duration, and by at least 30 seconds.
LISTENED_MARGIN_RATIO = 0.10
LISTENED_MARGIN_MIN_MS = 30_000

# An event may carry a time a little in the future of the server's clock (clients' clocks drift).
FUTURE_TOLERANCE = dt.timedelta(minutes=5)

# Pruning deletes this many events per statement, each statement its own short transaction:
# about 50 ms per batch on the 2-core machine, so locks stay short and the WAL stays small,
# while 1M expired events take ~200 statements.
PRUNE_BATCH_SIZE = 5_000

OPINION_KINDS: dict[str, str] = {
    Interaction.Kind.LIKE: Opinion.Value.LIKE,
    Interaction.Kind.DISLIKE: Opinion.Value.DISLIKE,
}


def listened_ms_max(*, duration_ms: int) -> int:
    """The longest listen accepted for a track of ``duration_ms``."""
    return duration_ms + max(int(duration_ms * LISTENED_MARGIN_RATIO), LISTENED_MARGIN_MIN_MS)


def _track(track_id: int) -> Track:
    return track_get(track_id=track_id, queryset=Track.objects.only("id", "duration_ms"))


def _validated(
    *,
    track: Track,
    kind: str,
    listened_ms: int | None,
    occurred_at: dt.datetime,
    mood: str,
    activity: str,
) -> None:
    errors: dict[str, list[str]] = {}
    if kind not in Interaction.Kind.values:
        errors["kind"] = [f"Unknown kind {kind!r}; one of {', '.join(Interaction.Kind.values)}."]
    if listened_ms is not None:
        limit = listened_ms_max(duration_ms=track.duration_ms)
        if listened_ms < 0:
            errors["listened_ms"] = ["Cannot be negative."]
        elif listened_ms > limit:
            errors["listened_ms"] = [
                f"At most {limit} ms for this track (its duration is {track.duration_ms} ms)."
            ]
    if timezone.is_naive(occurred_at):
        errors["occurred_at"] = ["Needs a time zone."]
    elif occurred_at > timezone.now() + FUTURE_TOLERANCE:
        errors["occurred_at"] = ["Cannot be in the future."]
    if mood and mood not in Mood.values:
        errors["mood"] = [f"Unknown mood {mood!r}; one of {', '.join(Mood.values)}."]
    if activity and activity not in Activity.values:
        errors["activity"] = [
            f"Unknown activity {activity!r}; one of {', '.join(Activity.values)}."
        ]
    if errors:
        raise ValidationError(errors)


def _opinions_upsert(rows: Iterable[tuple[int, int, str, dt.datetime]]) -> None:
    """Store (user_id, track_id, value, at) opinions; an opinion older than the one stored
    does not replace it (an event sent late must not undo a newer like)."""
    rows = list(rows)
    if not rows:
        return
    table = Opinion._meta.db_table
    placeholders = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params = [value for row in rows for value in row]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (user_id, track_id, value, updated_at) VALUES {placeholders}
            ON CONFLICT (user_id, track_id) DO UPDATE
               SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
             WHERE {table}.updated_at <= EXCLUDED.updated_at
            """,
            params,
        )


@transaction.atomic
def interaction_record(
    *,
    user: User,
    track_id: int,
    kind: str,
    listened_ms: int | None = None,
    occurred_at: dt.datetime | None = None,
    mood: str | None = None,
    activity: str | None = None,
    impression_id: uuid.UUID | None = None,
) -> Interaction:
    """Record one event of the listener's (``impression_id``: the served list it answers, if
    the client says; it must be one of the listener's own lists, else ``ApplicationError`` 404
    ``unknown_impression`` and nothing is stored).

    ``mood`` and ``activity`` default to the listener's current context (``None``: not sent;
    ``""``: sent as "none"). A like or dislike also becomes the listener's opinion of the track,
    replacing an earlier one. Unknown track: ``ApplicationError`` 404; invalid values:
    ``ValidationError`` naming the fields, and nothing is stored.
    """
    track = _track(track_id)
    if impression_id is not None and not impression_owned(user=user, impression_id=impression_id):
        # every entry point (API, page forms) answers alike: another listener's list is as
        # unknown as one never served, and nothing is stored
        raise ApplicationError(
            "No such recommendation list.", code="unknown_impression", status=404
        )
    now = timezone.now()
    occurred_at = occurred_at or now
    if mood is None or activity is None:
        # The stored context, not ``user``'s copy: it may predate a context change.
        current = User.objects.filter(pk=user.pk).values_list("mood", "activity").get()
        mood = current[0] if mood is None else mood
        activity = current[1] if activity is None else activity
    _validated(
        track=track,
        kind=kind,
        listened_ms=listened_ms,
        occurred_at=occurred_at,
        mood=mood,
        activity=activity,
    )
    interaction = Interaction.objects.create(
        user=user,
        track=track,
        kind=kind,
        listened_ms=listened_ms,
        occurred_at=occurred_at,
        recorded_at=now,
        mood=mood,
        activity=activity,
        impression_id=impression_id,
    )
    if kind in OPINION_KINDS:
        _opinions_upsert([(user.pk, track.pk, OPINION_KINDS[kind], occurred_at)])
    reason = TasteChange.SKIP if kind == Interaction.Kind.SKIP else TasteChange.FEEDBACK
    taste_changed_on_commit(user_id=user.pk, reason=reason)
    return interaction


def interactions_record_many(*, user: User, track_ids: Sequence[int], kind: str) -> int:
    """Record one event of ``kind`` for each of ``track_ids`` (known tracks: an unknown one is
    the ``ApplicationError`` 404 of :func:`interaction_record`, and nothing is stored), now, in
    the listener's current context, without a listened time or an impression: what
    :func:`interaction_record` stores for each, in a few queries and one taste notice whatever
    the number (adding 500 tracks to a playlist one by one was 2,500 queries and 500
    notices). How many were recorded."""
    if not track_ids:
        return 0
    known = set(Track.objects.filter(pk__in=list(track_ids)).values_list("pk", flat=True))
    for track_id in track_ids:
        if track_id not in known:
            _track(track_id)  # the 404 interaction_record answers
    now = timezone.now()
    mood, activity = User.objects.filter(pk=user.pk).values_list("mood", "activity").get()
    # listened_ms None: the track's duration is not read
    _validated(
        track=Track(), kind=kind, listened_ms=None, occurred_at=now, mood=mood, activity=activity
    )
    Interaction.objects.bulk_create(
        Interaction(
            user=user,
            track_id=track_id,
            kind=kind,
            occurred_at=now,
            recorded_at=now,
            mood=mood,
            activity=activity,
        )
        for track_id in track_ids
    )
    if kind in OPINION_KINDS:
        _opinions_upsert([(user.pk, t, OPINION_KINDS[kind], now) for t in track_ids])
    reason = TasteChange.SKIP if kind == Interaction.Kind.SKIP else TasteChange.FEEDBACK
    taste_changed_on_commit(user_id=user.pk, reason=reason)
    return len(track_ids)


def opinions_from_interactions(interactions: Iterable[Interaction]) -> int:
    """Apply the likes and dislikes among already-stored ``interactions`` to the opinions
    (the latest per listener and track wins); return how many opinions were written. For
    bulk writers (demo listeners, imports) that ``bulk_create`` their events."""
    latest: dict[tuple[int, int], tuple[str, dt.datetime]] = {}
    for event in interactions:
        if event.kind not in OPINION_KINDS:
            continue
        key = (event.user_id, event.track_id)
        if key not in latest or latest[key][1] <= event.occurred_at:
            latest[key] = (OPINION_KINDS[event.kind], event.occurred_at)
    rows = [(u, t, value, at) for (u, t), (value, at) in latest.items()]
    for start in range(0, len(rows), 1_000):
        _opinions_upsert(rows[start : start + 1_000])
    return len(rows)


def interactions_prune(
    *, retention_days: int | None = None, batch_size: int = PRUNE_BATCH_SIZE
) -> int:
    """Delete events recorded more than ``retention_days`` (default: the setting) ago, in
    batches of ``batch_size``; return how many were deleted. Opinions are not touched.

    Each batch is its own statement and transaction (no long lock, no huge WAL burst). Safe to
    run twice or concurrently: the cut-off is fixed at the start and ``SKIP LOCKED`` lets two
    runs share the work instead of waiting on each other's rows.
    """
    days = settings.INTERACTION_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = timezone.now() - dt.timedelta(days=days)
    return rows_delete_before(
        model=Interaction, column="recorded_at", cutoff=cutoff, batch_size=batch_size
    )
