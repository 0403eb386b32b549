"""Whose playlists: a listener named in an address (``?owner=`` of the API)."""

from __future__ import annotations

from accounts.models import User
from musicrec.errors import ApplicationError


def playlist_owner_get(*, username: str) -> User:
    """The active listener with this username (in any case, as usernames are unique);
    ``ApplicationError`` 404 ``not_found`` otherwise."""
    owner = User.objects.filter(username__iexact=username, is_active=True).first()
    if owner is None:
        raise ApplicationError("No such listener.", code="not_found", status=404)
    return owner
