"""Generating a playlist: from the listener's recommendations, a radio from a track or an
artist, a mood and/or activity mix, or a sonic path from one track to another.

The tracks come from ``recommendations.selectors.sequences`` (the engine's
``engine.sequences`` on the process's serving state); this module checks the request, picks a
seed when none is given (and records it, so the same playlist can be made again from the same
model), and stores the result with ``playlist_create``. The engine's picks are not recorded as
the listener's interactions: the recommender would learn from its own choices.

What each kind needs (a field another kind needs is ignored): ``radio`` exactly one of
``seed_track_id`` / ``seed_artist_id``; ``mood`` a ``mood`` and/or an ``activity``; ``path``
``from_track_id`` and ``to_track_id``, two different tracks; ``recommendations`` nothing.
``length`` 5–100 for every kind (a path's counts both ends). A missing or bad field is a
``ValidationError`` naming it, an unknown track or artist an ``ApplicationError`` 404; both
change nothing. The work is done before the playlist's transaction opens: the owner's row is
locked (``playlist_create``) only for the writes.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.validators import Activity, Mood
from catalog.models import ID_MAX
from playlists.models import NAME_MAX, Origin, Playlist
from playlists.services.playlists import playlist_create
from recommendations.selectors.sequences import (
    GeneratedSequence,
    sequence_mood,
    sequence_path,
    sequence_radio,
    sequence_recommendations,
)

#: The kinds of generated playlist (each one a playlist ``Origin``).
GENERATION_KINDS = (
    Origin.RECOMMENDATIONS.value,
    Origin.RADIO.value,
    Origin.MOOD.value,
    Origin.PATH.value,
)
LENGTH_MIN = 5
LENGTH_MAX = 100
#: The largest ``seed`` (a 32-bit signed integer: every client's JSON number holds it exactly).
SEED_MAX = 2**31 - 1


def _int_in(value: object, lowest: int, highest: int) -> bool:
    """Whether ``value`` is a whole number (not a bool) from ``lowest`` to ``highest``."""
    return isinstance(value, int) and not isinstance(value, bool) and lowest <= value <= highest


def _id_error(value: object, field: str, errors: dict[str, list[str]]) -> None:
    if not _int_in(value, 1, ID_MAX):
        errors[field] = [f"Give the {field.removesuffix('_id').replace('_', ' ')}'s id."]


def _checked(
    *,
    kind: object,
    length: object,
    seed: object,
    is_public: object,
    fields: dict[str, Any],
) -> dict[str, list[str]]:
    """The request's errors by field (empty: it is valid)."""
    errors: dict[str, list[str]] = {}
    if kind not in GENERATION_KINDS:
        errors["kind"] = [f"Choose one of: {', '.join(GENERATION_KINDS)}."]
    if not _int_in(length, LENGTH_MIN, LENGTH_MAX):
        errors["length"] = [f"Give a whole number of tracks from {LENGTH_MIN} to {LENGTH_MAX}."]
    if seed is not None and not _int_in(seed, 0, SEED_MAX):
        errors["seed"] = [f"Give a whole number from 0 to {SEED_MAX}, or no seed."]
    if not isinstance(is_public, bool):
        errors["is_public"] = ["Give true or false."]
    if kind == Origin.RADIO:
        track, artist = fields["seed_track_id"], fields["seed_artist_id"]
        if track is None and artist is None:
            errors["seed_track_id"] = [
                "A radio starts from a track (seed_track_id) or an artist (seed_artist_id)."
            ]
        elif track is not None and artist is not None:
            errors["seed_artist_id"] = ["Give a seed track or a seed artist, not both."]
        else:
            _id_error(
                track if track is not None else artist,
                "seed_track_id" if track is not None else "seed_artist_id",
                errors,
            )
    elif kind == Origin.MOOD:
        mood, activity = fields["mood"], fields["activity"]
        if mood is not None and mood not in Mood.values:
            errors["mood"] = [f"Choose one of: {', '.join(Mood.values)}."]
        if activity is not None and activity not in Activity.values:
            errors["activity"] = [f"Choose one of: {', '.join(Activity.values)}."]
        if mood is None and activity is None:
            errors["mood"] = ["A mix needs a mood, an activity, or both."]
    elif kind == Origin.PATH:
        start, end = fields["from_track_id"], fields["to_track_id"]
        for field, value in (("from_track_id", start), ("to_track_id", end)):
            if value is None:
                errors[field] = [
                    "A sonic path needs the track it starts from and the one it ends at."
                ]
            else:
                _id_error(value, field, errors)
        if "to_track_id" not in errors and "from_track_id" not in errors and start == end:
            errors["to_track_id"] = ["A sonic path ends at another track than it starts from."]
    return errors


def playlist_generate(
    *,
    owner: User,
    kind: str,
    length: int,
    seed_track_id: int | None = None,
    seed_artist_id: int | None = None,
    mood: str | None = None,
    activity: str | None = None,
    from_track_id: int | None = None,
    to_track_id: int | None = None,
    seed: int | None = None,
    is_public: bool = False,
) -> Playlist:
    """A new playlist of ``owner``'s made by ``kind`` (see the module docstring), named and
    described after how it was made. ``origin_parameters`` keep the kind, what it was made
    from, the ``seed`` (drawn when not given), ``length`` and how many tracks were
    ``requested`` and ``found``: when the tracks the listener may be given cannot fill
    ``length`` the playlist is shorter and says so, never padded with others."""
    fields = {
        "seed_track_id": seed_track_id,
        "seed_artist_id": seed_artist_id,
        "mood": mood or None,
        "activity": activity or None,
        "from_track_id": from_track_id,
        "to_track_id": to_track_id,
    }
    errors = _checked(kind=kind, length=length, seed=seed, is_public=is_public, fields=fields)
    if errors:
        raise ValidationError(errors)
    chosen = seed if seed is not None else secrets.randbelow(SEED_MAX + 1)
    made: GeneratedSequence
    if kind == Origin.RADIO:
        made = sequence_radio(
            user=owner,
            length=length,
            seed=chosen,
            seed_track_id=seed_track_id,
            seed_artist_id=seed_artist_id,
            name_max=NAME_MAX,
        )
    elif kind == Origin.MOOD:
        made = sequence_mood(
            user=owner,
            length=length,
            seed=chosen,
            mood=mood or None,
            activity=activity or None,
            name_max=NAME_MAX,
        )
    elif kind == Origin.PATH:
        assert from_track_id is not None and to_track_id is not None
        made = sequence_path(
            user=owner,
            length=length,
            seed=chosen,
            from_track_id=from_track_id,
            to_track_id=to_track_id,
            name_max=NAME_MAX,
        )
    else:
        made = sequence_recommendations(user=owner, length=length, seed=chosen, name_max=NAME_MAX)
    return playlist_create(
        owner=owner,
        name=made.name,
        description=made.description,
        is_public=is_public,
        origin=kind,
        origin_parameters={**made.parameters, "length": length},
        track_ids=made.track_ids,
    )
