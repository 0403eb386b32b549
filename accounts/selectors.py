"""Reads of listener data."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.models import GenrePreference, User
from catalog.models import Genre
from musicrec import registry


def listener_preferences(*, user: User) -> dict[str, list[Genre]]:
    prefs = GenrePreference.objects.filter(user=user).select_related("genre")
    result: dict[str, list[Genre]] = {"preferred": [], "disliked": []}
    for pref in prefs.order_by("genre__name"):
        result[pref.kind].append(pref.genre)
    return result


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
        },
    }
    for part in registry.listener_export_parts:
        export.update(part(user))
    return export
