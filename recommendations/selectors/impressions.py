"""Reads of served lists (``recommendations.Impression``)."""

from __future__ import annotations

import uuid

from recommendations.models import Impression


def impression_is_listeners(user_id: int, impression_id: uuid.UUID) -> bool:
    """Whether ``impression_id`` is a list served to this listener (registered as
    ``musicrec.registry.impression_owners``: the interactions' check). One index lookup."""
    return Impression.objects.filter(pk=impression_id, user_id=user_id).exists()
