"""Telling higher layers that a listener's taste data changed (``musicrec.registry.taste_changed``).

What the recommender learns a listener from lives in lower layers: history, feedback and
listening imports (history), preferences, context, demographics and blocked artists (accounts).
They cannot import it, so it registers hooks, called here after the change commits with the
listener and a :class:`TasteChange` saying what changed: a hook refreshes what it derives from
that (the collaborative vector after history or feedback; the cached lists after anything; a
live update to the listener's open pages).
"""

from __future__ import annotations

import logging
from enum import StrEnum

from django.db import transaction

from musicrec import registry

logger = logging.getLogger(__name__)


class TasteChange(StrEnum):
    """What changed about a listener's taste."""

    HISTORY = "history"  # an entry added, removed, or the history cleared
    FEEDBACK = "feedback"  # a play, like or dislike recorded
    SKIP = "skip"  # a skip recorded
    IMPORT = "import"  # a listening import finished or was undone
    PREFERENCES = "preferences"  # preferred or disliked genres replaced
    CONTEXT = "context"  # mood or activity changed
    DEMOGRAPHICS = "demographics"  # age, country, gender or occupation changed
    BLOCKS = "blocks"  # an artist blocked or unblocked
    DISCOVERY = "discovery"  # the listener's default discovery changed


def taste_changed_notify(*, user_id: int, reason: TasteChange) -> None:
    """Call every ``taste_changed`` hook for this listener now. A hook that fails is logged and
    the others still run: the write they follow has happened and must not look failed."""
    for name, hook in registry.taste_changed.items():
        try:
            hook(user_id, reason)
        except Exception:
            logger.exception("taste_changed hook %s failed for listener %s", name, user_id)


def taste_changed_on_commit(*, user_id: int, reason: TasteChange) -> None:
    """:func:`taste_changed_notify` once the current transaction commits (at once outside
    one); nothing when it rolls back."""
    transaction.on_commit(lambda: taste_changed_notify(user_id=user_id, reason=reason))
