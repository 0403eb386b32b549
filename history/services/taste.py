"""Telling higher layers that a listener's taste data changed (``musicrec.registry.taste_changed``).

History, feedback and listening imports are what the recommender learns a listener from; it
keeps a collaborative vector per listener folded in from them (and caches of their lists).
The history layer cannot import it, so the recommender registers a hook, called here after the
change commits.
"""

from __future__ import annotations

import logging

from django.db import transaction

from musicrec import registry

logger = logging.getLogger(__name__)


def taste_changed_notify(*, user_id: int) -> None:
    """Call every ``taste_changed`` hook for this listener now. A hook that fails is logged and
    the others still run: the write they follow has happened and must not look failed."""
    for name, hook in registry.taste_changed.items():
        try:
            hook(user_id)
        except Exception:
            logger.exception("taste_changed hook %s failed for listener %s", name, user_id)


def taste_changed_on_commit(*, user_id: int) -> None:
    """:func:`taste_changed_notify` once the current transaction commits (at once outside
    one); nothing when it rolls back."""
    transaction.on_commit(lambda: taste_changed_notify(user_id=user_id))
