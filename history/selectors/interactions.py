"""Reads of the interaction log and the listener's opinions."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.db.models import QuerySet

from accounts.models import User
from catalog.models import ID_MAX, credits_prefetch
from history.models import Interaction, Opinion
from musicrec import registry


def interaction_list(
    *,
    user: User,
    kind: str | Iterable[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[Interaction]:
    """The listener's events, newest first: ``since`` ≤ occurred_at < ``until``; ``kind`` is
    one kind or several."""
    events = Interaction.objects.filter(user=user)
    if kind:
        events = events.filter(kind__in=[kind] if isinstance(kind, str) else list(kind))
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lt=until)
    return (
        events.select_related("track")
        .prefetch_related(credits_prefetch("track__track_artists"))
        .order_by("-occurred_at", "-id")
    )


def opinion_of(*, user: User, track_ids: Iterable[int]) -> dict[int, str]:
    """The listener's current opinion (``"like"`` / ``"dislike"``) of each of ``track_ids``
    that has one."""
    ids = [track_id for track_id in set(track_ids) if 1 <= track_id <= ID_MAX]
    return dict(
        Opinion.objects.filter(user=user, track_id__in=ids).values_list("track_id", "value")
    )


def impression_owned(*, user: User, impression_id: uuid.UUID) -> bool:
    """Whether a served list (an impression id) is the listener's own, so an interaction may
    name it. The recommender answers (``musicrec.registry.impression_owners``); with nothing
    registered, no id is anyone's."""
    return any(owns(user.pk, impression_id) for owns in registry.impression_owners)
