"""Reads of listener data."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Case, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import ArtistBlock, GenrePreference, User
from catalog.models import Genre
from musicrec import registry

MAX_SIGN_IN_NAME = 254  # the longest e-mail address; usernames are shorter


def listener_for_sign_in(*, identifier: str) -> User | None:
    """The account a sign-in names: by username or e-mail address, in any case.

    An identifier with ``@`` is an e-mail address, and its owner wins over an (older) account
    whose username is that same text: usernames can no longer hold ``@``, but one made before
    may still exist, and it must not take the address owner's sign-in.
    """
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    matches = User.objects.filter(Q(username__iexact=identifier) | Q(email__iexact=identifier))
    if "@" in identifier:
        matches = matches.order_by(
            Case(When(email__iexact=identifier, then=Value(0)), default=Value(1)), "pk"
        )
    else:
        matches = matches.order_by(
            Case(When(username__iexact=identifier, then=Value(0)), default=Value(1)), "pk"
        )
    return matches.first()


def listener_rate_limit_key(*, identifier: str) -> str | None:
    """What a sign-in (or reset) attempt on ``identifier`` is counted under: the account it
    names, so its username and e-mail address share one budget; an identifier that names no
    account is counted by itself, in lower case. None for a blank identifier."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    # Rate limits run before the input is validated: text no account can have (too long for an
    # e-mail address, or with a NUL, which PostgreSQL refuses) is not looked up.
    if len(identifier) <= MAX_SIGN_IN_NAME and "\x00" not in identifier:
        user = listener_for_sign_in(identifier=identifier)
        if user is not None:
            return f"user:{user.pk}"
    return f"name:{identifier.lower()[:MAX_SIGN_IN_NAME]}"


def listener_preferences(*, user: User) -> dict[str, list[Genre]]:
    prefs = GenrePreference.objects.filter(user=user).select_related("genre")
    result: dict[str, list[Genre]] = {"preferred": [], "disliked": []}
    for pref in prefs.order_by("genre__name"):
        result[pref.kind].append(pref.genre)
    return result


def artist_block_list(*, user: User) -> QuerySet[ArtistBlock]:
    """The listener's blocked artists ("not interested"), the latest first, with the artist."""
    return (
        ArtistBlock.objects.filter(user=user)
        .select_related("artist")
        .order_by("-created_at", "-id")
    )


def artist_blocked(*, user: User, artist_id: int) -> bool:
    return ArtistBlock.objects.filter(user=user, artist_id=artist_id).exists()


def listener_export(*, user: User) -> dict[str, Any]:
    """Everything stored about the listener, as JSON-ready data: the account's own keys, then
    the parts the other apps register (``musicrec.registry.listener_export_parts``). Values of
    long parts are iterators: write the export with ``musicrec.jsonstream.iter_json`` to keep
    it out of memory."""
    prefs = listener_preferences(user=user)
    export: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "account": {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
            "time_zone": user.time_zone,
            "onboarded_at": user.onboarded_at.isoformat() if user.onboarded_at else None,
        },
        "demographics": {
            "age": user.age,
            "age_band": user.age_band,
            "gender": user.gender or None,
            "country": user.country or None,
            "occupation": user.occupation or None,
        },
        "preferences": {
            kind: [{"id": g.pk, "slug": g.slug, "name": g.name} for g in genres]
            for kind, genres in prefs.items()
        },
        "context": {
            "mood": user.mood or None,
            "activity": user.activity or None,
            "updated_at": user.context_updated_at.isoformat() if user.context_updated_at else None,
            "discovery": user.discovery,
        },
        "blocks": [
            {
                "artist": {"id": block.artist.pk, "name": block.artist.name},
                "blocked_at": block.created_at.isoformat(),
            }
            for block in artist_block_list(user=user)
        ],
    }
    for name, part in registry.listener_export_parts.items():
        values = part(user)
        clash = set(values) & set(export)
        if clash:
            raise ImproperlyConfigured(f"export part {name!r} would replace {sorted(clash)}")
        export.update(values)
    return export
