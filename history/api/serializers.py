"""Serializers of the history API: entries, interactions, imports."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.http import QueryDict
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.validators import Activity, Mood
from catalog.api.serializers import ArtistRefSerializer, TrackSerializer
from catalog.models import ID_MAX
from history.listen_formats.parsers import FORMAT_LABELS
from history.models import HISTORY_LIMIT, HistoryEntry, Interaction, ListenImport


class HistoryEntrySerializer(serializers.ModelSerializer):
    track = TrackSerializer(read_only=True)

    class Meta:
        model = HistoryEntry
        fields = ["id", "track", "slot", "added_at"]
        read_only_fields = fields  # an answer: every field is there


class HistoryAddSerializer(serializers.Serializer):
    track_id = serializers.IntegerField(min_value=1, max_value=ID_MAX)


def _count_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=0, max_value=HISTORY_LIMIT, help_text="Entries in the history."
    )


def _limit_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=HISTORY_LIMIT, max_value=HISTORY_LIMIT, help_text="The most it can hold."
    )


def _remaining_field() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=HISTORY_LIMIT, help_text="Free slots.")


def history_counts_fields() -> dict[str, serializers.Field]:
    """``count``, ``limit`` and ``remaining``, next to a page of the history."""
    return {"limit": _limit_field(), "remaining": _remaining_field()}


def _warning_field() -> serializers.CharField:
    # Not read-only: a read-only field is required in an answer's schema, and this one is absent
    # below 45 entries. These serializers only ever write answers.
    return serializers.CharField(
        required=False,
        help_text='From the 45th entry on: "5 slots remaining" … "0 slots remaining".',
    )


class HistorySummarySerializer(serializers.Serializer):
    count = _count_field()
    limit = _limit_field()
    remaining = _remaining_field()


class HistoryClearedSerializer(HistorySummarySerializer):
    removed = serializers.IntegerField(min_value=0, help_text="Entries removed.")


class HistoryAddedSerializer(HistoryEntrySerializer):
    """The entry, the history's new size and, from the 45th entry on, the warning."""

    count = _count_field()
    limit = _limit_field()
    remaining = _remaining_field()
    warning = _warning_field()

    class Meta(HistoryEntrySerializer.Meta):
        fields = [*HistoryEntrySerializer.Meta.fields, "count", "limit", "remaining", "warning"]


class InteractionInputSerializer(serializers.Serializer):
    track_id = serializers.IntegerField(min_value=1, max_value=ID_MAX)
    kind = serializers.ChoiceField(choices=Interaction.Kind.choices)
    listened_ms = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=ID_MAX,
        help_text="How long it was listened to, in ms; at most the track's duration plus a "
        "margin (a longer value is a 400 naming the track's limit).",
    )
    mood = serializers.ChoiceField(
        choices=Mood.choices,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text='Missing or null: the listener\'s current mood; "": none.',
    )
    activity = serializers.ChoiceField(
        choices=Activity.choices,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text='Missing or null: the listener\'s current activity; "": none.',
    )
    impression_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="The served list this event answers (`impression_id` of "
        "`GET /api/v1/recommendations/`): one of the caller's own, else a 404 "
        "(`unknown_impression`) and nothing is stored.",
    )


class InteractionTrackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    duration_ms = serializers.IntegerField()
    artists = ArtistRefSerializer(source="artist_list", many=True)


class InteractionSerializer(serializers.ModelSerializer):
    track = InteractionTrackSerializer(read_only=True)
    kind = serializers.ChoiceField(choices=Interaction.Kind.choices, read_only=True)
    mood = serializers.SerializerMethodField()
    activity = serializers.SerializerMethodField()

    class Meta:
        model = Interaction
        fields = [
            "id",
            "track",
            "kind",
            "listened_ms",
            "mood",
            "activity",
            "occurred_at",
            "recorded_at",
            "impression_id",
        ]
        read_only_fields = fields  # an answer: every field is there
        extra_kwargs = {
            "impression_id": {"help_text": "The served list this event answers, if any."}
        }

    @extend_schema_field(serializers.ChoiceField(choices=Mood.choices, allow_null=True))
    def get_mood(self, event: Interaction) -> str | None:
        return event.mood or None

    @extend_schema_field(serializers.ChoiceField(choices=Activity.choices, allow_null=True))
    def get_activity(self, event: Interaction) -> str | None:
        return event.activity or None


_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# RFC 3339: a time zone always (Z or an offset); "t"/"z" in either case; any fraction.
_DATE_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})"
)
BOUND_SCHEMA = {
    "oneOf": [
        {"type": "string", "format": "date"},
        {"type": "string", "format": "date-time"},
    ]
}


def _bound(raw: str, *, end: bool) -> dt.datetime | None:
    """An ISO date (``2025-01-31``: the whole day, in the site's time zone) or an RFC 3339
    date-time (``2025-01-31T10:00:00Z``, with its time zone). ``None``: no bound (the end of the
    last day there is)."""
    invalid = serializers.ValidationError(
        "A date (2025-01-31) or a date-time with its time zone (2025-01-31T10:00:00Z)."
    )
    if _DATE.fullmatch(raw):
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise invalid from None
        if end:
            if day == dt.date.max:
                return None
            day += dt.timedelta(days=1)
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    match = _DATE_TIME.fullmatch(raw)
    if match is None:
        raise invalid
    date, hour, minute, second, fraction, offset = match.groups()
    leap = second == "60"  # a leap second: the moment after :59
    micro = (fraction or "")[:6].ljust(6, "0")
    offset = "+00:00" if offset in ("Z", "z") else offset
    text = f"{date}T{hour}:{minute}:{'59' if leap else second}.{micro}{offset}"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise invalid from None
    return _in_utc(moment + dt.timedelta(seconds=1) if leap else moment)


_EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
_LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)


def _in_utc(moment: dt.datetime) -> dt.datetime:
    """In UTC, for the database: PostgreSQL refuses offsets past ±15:59 that RFC 3339 allows
    (up to ±23:59). A moment before the first or after the last there is stays at that end."""
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        return _EARLIEST if moment.year == dt.MINYEAR else _LATEST


class InteractionFilterSerializer(serializers.Serializer):
    """``?kind=play,skip`` (or ``?kind=play&kind=skip``) · ``?since=2025-01-01`` (from that day
    on) · ``?until=2025-01-31`` (to the end of that day; a date-time is an exclusive bound). A
    ``since`` at or after ``until`` is an empty range: no events."""

    kind = serializers.ListField(child=serializers.CharField(), required=False)
    since = serializers.CharField(required=False)
    until = serializers.CharField(required=False)

    @classmethod
    def from_query(cls, query: QueryDict) -> InteractionFilterSerializer:
        """From the query string, as a plain dict: an empty value (``?until=``) is then an
        empty value, refused, not a missing one as DRF reads forms."""
        data: dict[str, Any] = {name: query[name] for name in ("since", "until") if name in query}
        if "kind" in query:
            data["kind"] = query.getlist("kind")
        return cls(data=data)

    def validate_kind(self, values: list[str]) -> list[str]:
        kinds = [part.strip() for value in values for part in value.split(",")]
        unknown = [kind for kind in kinds if kind not in Interaction.Kind.values]
        if unknown or not kinds:
            raise serializers.ValidationError(
                f"Unknown kind(s): {', '.join(repr(kind) for kind in unknown) or 'none'}; "
                f"use {', '.join(Interaction.Kind.values)}."
            )
        return list(dict.fromkeys(kinds))

    def validate_since(self, value: str) -> dt.datetime | None:
        return _bound(value, end=False)

    def validate_until(self, value: str) -> dt.datetime | None:
        return _bound(value, end=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in attrs.items() if value is not None}


@extend_schema_field({"type": "string", "format": "binary", "minLength": 1})
class _NonEmptyFileField(serializers.FileField):
    """A file of one byte or more (an empty one is "no file" to the multipart parser)."""


class ListenImportUploadSerializer(serializers.Serializer):
    file = _NonEmptyFileField(
        allow_empty_file=False,
        help_text="The export: a Last.fm CSV, a Spotify streaming history (JSON or the ZIP), a "
        "ListenBrainz export (JSON / JSON lines) or a .scrobbler.log; at most 50 MB.",
    )


class OfferedTrackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    spotify_id = serializers.CharField()
    title = serializers.CharField()
    artists = serializers.ListField(child=serializers.CharField())
    in_history = serializers.BooleanField()


class UnmatchedListenSerializer(serializers.Serializer):
    artist = serializers.CharField()
    title = serializers.CharField()
    count = serializers.IntegerField(min_value=1)


class ListenImportSerializer(serializers.ModelSerializer):
    format = serializers.ChoiceField(choices=list(FORMAT_LABELS), read_only=True)
    top_unmatched = UnmatchedListenSerializer(
        many=True, read_only=True, help_text="The most listened tracks that matched nothing."
    )
    progress = serializers.IntegerField(min_value=0, max_value=100, read_only=True)

    class Meta:
        model = ListenImport
        fields = [
            "id",
            "format",
            "file_name",
            "file_size",
            "status",
            "progress",
            "listens",
            "skipped",
            "matched",
            "unmatched",
            "created",
            "duplicates",
            "over_limit",
            "top_unmatched",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ListenImportDetailSerializer(ListenImportSerializer):
    offered_tracks = OfferedTrackSerializer(many=True, read_only=True)

    class Meta(ListenImportSerializer.Meta):
        fields = [*ListenImportSerializer.Meta.fields, "offered_tracks"]
        read_only_fields = fields


class OfferAcceptSerializer(serializers.Serializer):
    track_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
        min_length=1,
        max_length=HISTORY_LIMIT,
        help_text="Tracks of the import's offer (`offered_tracks`).",
    )


class OfferAcceptedSerializer(serializers.Serializer):
    added = serializers.IntegerField(min_value=0, help_text="Tracks added (not already there).")
    count = _count_field()
    limit = _limit_field()
    remaining = _remaining_field()
    warning = _warning_field()


class ListenImportUndoneSerializer(serializers.Serializer):
    removed_interactions = serializers.IntegerField(
        min_value=0, help_text="Plays of the import deleted."
    )
