"""Serializers of the playlists API.

Answers: ``PlaylistSerializer`` (a list's items: the playlist, its owner, its totals, its page)
and ``PlaylistDetailSerializer`` (the same, how it was made and its tracks in order). The
generate and import endpoints answer with the detail serializer too.

Bodies (JSON): a playlist's editable fields (create, update), tracks to add, and a new order
(a full order or one move). A body names only the fields its schema lists: an unknown field is
a 400 naming it (``additionalProperties: false`` in the schema), so a client that misspells
``is_public`` learns it instead of silently keeping a private playlist.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Sum
from django.urls import NoReverseMatch, reverse
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from catalog.api.serializers import TrackSerializer
from catalog.models import ID_MAX
from musicrec.api.fields import StrictCharField, StrictIntegerField
from musicrec.api.schema_params import NON_BLANK_TEXT_PATTERN, TEXT_PATTERN
from playlists.models import (
    DESCRIPTION_MAX,
    NAME_MAX,
    PLAYLIST_TRACKS_MAX,
    Origin,
    Playlist,
    PlaylistTrack,
)
from playlists.selectors.playlists import playlist_entries

# ----------------------------------------------------------------------------------- answers


class PlaylistOwnerSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)

    class Meta:
        ref_name = "PlaylistOwner"


def playlist_page_url(playlist: Playlist) -> str:
    """The playlist's page (``playlists:detail``), as the catalog's ``url`` is its page."""
    try:
        return reverse("playlists:detail", args=[playlist.pk])
    except NoReverseMatch:  # the pages come with their own part of #13; same address
        return f"/playlists/{playlist.pk}/"


class PlaylistSerializer(serializers.ModelSerializer):
    """A playlist in a list: what it is, whose, how long, and where its page is."""

    origin = serializers.ChoiceField(
        choices=Origin.choices, read_only=True, help_text="How the playlist was made."
    )
    owner = PlaylistOwnerSerializer(read_only=True)
    track_count = serializers.SerializerMethodField()
    duration_ms = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Playlist
        fields = [
            "id",
            "name",
            "description",
            "is_public",
            "origin",
            "owner",
            "track_count",
            "duration_ms",
            "created_at",
            "updated_at",
            "url",
        ]
        read_only_fields = fields  # an answer: every key is there

    @extend_schema_field(
        serializers.IntegerField(min_value=0, max_value=PLAYLIST_TRACKS_MAX, help_text="Tracks.")
    )
    def get_track_count(self, playlist: Playlist) -> int:
        counted = getattr(playlist, "track_count", None)  # annotated by the list selectors
        if counted is None:
            counted = PlaylistTrack.objects.filter(playlist=playlist).count()
        return int(counted)

    @extend_schema_field(
        serializers.IntegerField(min_value=0, help_text="The tracks' durations added up, in ms.")
    )
    def get_duration_ms(self, playlist: Playlist) -> int:
        duration = getattr(playlist, "duration_ms", None)
        if duration is None:
            duration = PlaylistTrack.objects.filter(playlist=playlist).aggregate(
                total=Sum("track__duration_ms")
            )["total"]
        return int(duration or 0)

    @extend_schema_field(serializers.CharField(help_text="The playlist's page on the site."))
    def get_url(self, playlist: Playlist) -> str:
        return playlist_page_url(playlist)


class PlaylistEntrySerializer(serializers.Serializer):
    """One track of a playlist, at its place."""

    position = serializers.IntegerField(
        read_only=True,
        min_value=1,
        max_value=PLAYLIST_TRACKS_MAX,
        help_text="1-based place in the playlist's order (no gaps, no repeats).",
    )
    added_at = serializers.DateTimeField(read_only=True)
    track = TrackSerializer(read_only=True)

    class Meta:
        ref_name = "PlaylistEntry"


class PlaylistDetailSerializer(PlaylistSerializer):
    """A playlist with how it was made and its tracks in order.

    The entries come from ``context["entries"]`` when the view read them already
    (``playlist_entries``), else they are read here: a constant number of queries whatever the
    length, so ``PlaylistDetailSerializer(playlist).data`` is all a caller needs."""

    origin_parameters = serializers.SerializerMethodField()
    tracks = serializers.SerializerMethodField()

    class Meta(PlaylistSerializer.Meta):
        fields = [*PlaylistSerializer.Meta.fields, "origin_parameters", "tracks"]
        read_only_fields = fields

    def to_representation(self, playlist: Playlist) -> dict[str, Any]:
        entries = self.context.get("entries")
        if entries is None:
            entries = playlist_entries(playlist=playlist)
        self._entries = entries
        data = super().to_representation(playlist)
        # the totals of exactly the entries shown (a playlist fresh from a service has none
        # annotated)
        data["track_count"] = len(entries)
        data["duration_ms"] = sum(entry.track.duration_ms or 0 for entry in entries)
        return data

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {},
            "description": "How a generated or imported playlist was made (kind, seeds, "
            "length, seed; file format, matched and unmatched counts); `{}` for one made by "
            "hand.",
        }
    )
    def get_origin_parameters(self, playlist: Playlist) -> dict[str, Any]:
        return dict(playlist.origin_parameters or {})

    @extend_schema_field(PlaylistEntrySerializer(many=True))
    def get_tracks(self, playlist: Playlist) -> list[dict[str, Any]]:
        return PlaylistEntrySerializer(self._entries, many=True).data


# ------------------------------------------------------------------------------------ bodies


class StrictBooleanField(serializers.BooleanField):
    """A JSON ``true`` or ``false`` (DRF's own also takes ``"yes"``, ``1``, ``"on"`` …)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictBooleanFieldExtension(OpenApiSerializerFieldExtension):
    target_class = StrictBooleanField

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = build_basic_type(OpenApiTypes.BOOL)
        assert schema is not None
        return schema


class ClosedSerializer(serializers.Serializer):
    """A body that takes its own fields only: any other key is a 400 naming it."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {key: ["Unknown field."] for key in unknown}, code="unknown_field"
                )
        return super().to_internal_value(data)


class ClosedSerializerExtension(OpenApiSerializerExtension):
    """The schema of a ``ClosedSerializer``: its fields and ``additionalProperties: false``."""

    target_class = ClosedSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["additionalProperties"] = False
        for name, field in self.target.fields.items():
            if isinstance(field, TextOrEmptyField):
                # drf-spectacular says minLength 1 of a field that refuses blanks in DRF's way
                schema["properties"][name].pop("minLength", None)
        return schema


def _name_field(*, required: bool) -> StrictCharField:
    return StrictCharField(
        required=required,
        max_length=NAME_MAX,
        pattern=NON_BLANK_TEXT_PATTERN,
        pattern_message="The name cannot be blank.",
        trim_whitespace=False,  # the service trims; the schema's maxLength is of the text sent
        help_text=f"At most {NAME_MAX} characters, not blank (leading and trailing spaces are "
        "dropped).",
    )


class TextOrEmptyField(StrictCharField):
    """Text without NUL that may be empty, untrimmed. Not DRF's ``allow_blank``: with a
    pattern, drf-spectacular would write it ``oneOf: [pattern, maxLength: 0]``, which the empty
    text matches twice (so it would be invalid); the pattern here matches it once (and
    ``ClosedSerializerExtension`` drops the ``minLength`` a blank-refusing field gets)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(pattern=TEXT_PATTERN, trim_whitespace=False, **kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        if data == "":
            return ""
        return super().run_validation(data)


def _description_field() -> TextOrEmptyField:
    return TextOrEmptyField(
        required=False,
        max_length=DESCRIPTION_MAX,
        pattern_message="Null characters are not allowed.",
        help_text=f"At most {DESCRIPTION_MAX} characters; may be empty.",
    )


def _is_public_field() -> StrictBooleanField:
    return StrictBooleanField(
        required=False,
        help_text="Public: readable by every signed-in listener and listed on the owner's "
        "page. Private (the default): the owner's alone.",
    )


class PlaylistCreateSerializer(ClosedSerializer):
    """A new playlist: a name, and optionally a description and whether it is public."""

    name = _name_field(required=True)
    description = _description_field()
    is_public = _is_public_field()

    class Meta:
        ref_name = "PlaylistCreate"


class PlaylistUpdateSerializer(ClosedSerializer):
    """The fields given change; the others stay (an empty body changes nothing)."""

    name = _name_field(required=False)
    description = _description_field()
    is_public = _is_public_field()

    class Meta:
        ref_name = "PlaylistUpdate"


def _track_id_field(help_text: str) -> StrictIntegerField:
    return StrictIntegerField(min_value=1, max_value=ID_MAX, help_text=help_text)


class TrackIdsField(serializers.ListField):
    """Track ids, each once (a repeat is a 400 naming it), at most a playlist's worth."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            child=StrictIntegerField(min_value=1, max_value=ID_MAX),
            max_length=PLAYLIST_TRACKS_MAX,
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> list[int]:
        # DRF checks max_length after validating every item (and lists an error for each bad
        # one): a body of a million junk ids took ~20 s and answered megabytes
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        ids: list[int] = super().to_internal_value(data)
        repeated = sorted(t for t, n in Counter(ids).items() if n > 1)
        if repeated:
            raise serializers.ValidationError(
                f"A track may be named once; repeated: {', '.join(map(str, repeated))}.",
                code="repeated",
            )
        return ids


class TrackIdsFieldExtension(OpenApiSerializerFieldExtension):
    """An array of track ids with its bounds and ``uniqueItems`` (what the field checks)."""

    target_class = TrackIdsField

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "array",
            "items": {"type": "integer", "minimum": 1, "maximum": ID_MAX},
            "maxItems": PLAYLIST_TRACKS_MAX,
            "uniqueItems": True,
        }
        if self.target.min_length:
            schema["minItems"] = self.target.min_length
        return schema


def _position_field(help_text: str, *, required: bool) -> StrictIntegerField:
    return StrictIntegerField(
        required=required, min_value=1, max_value=PLAYLIST_TRACKS_MAX + 1, help_text=help_text
    )


_ADD_POSITION = (
    "1-based place of the (first) added track: 1 = first, the playlist's length + 1 = the "
    "end (the default). Past that: a 400 `invalid_position`."
)


class TrackAddOneSerializer(ClosedSerializer):
    """One track to add, at a place (the end by default)."""

    track_id = _track_id_field("The track to add.")
    position = _position_field(_ADD_POSITION, required=False)

    class Meta:
        ref_name = "PlaylistTrackAddOne"


class TrackAddManySerializer(ClosedSerializer):
    """Tracks to add in this order, from a place (the end by default)."""

    track_ids = TrackIdsField(
        min_length=1, help_text="The tracks to add, in this order, each once."
    )
    position = _position_field(_ADD_POSITION, required=False)

    class Meta:
        ref_name = "PlaylistTrackAddMany"


class ReorderFullSerializer(ClosedSerializer):
    """A full order: every track of the playlist, each once."""

    track_ids = TrackIdsField(
        help_text="Every track of the playlist, each once, in the new order (a track missing, "
        "unexpected or repeated: a 400 `invalid_order` naming them, and nothing changes)."
    )

    class Meta:
        ref_name = "PlaylistReorderFull"


class ReorderMoveSerializer(ClosedSerializer):
    """One move: a track of the playlist to a new place."""

    track_id = _track_id_field("The track to move (one of the playlist's).")
    position = _position_field(
        "Its new 1-based place: 1 = first, the playlist's length = last (beyond: a 400 "
        "`invalid_position`).",
        required=True,
    )

    class Meta:
        ref_name = "PlaylistReorderMove"


def _one_of(data: Any, shapes: Sequence[tuple[str, type[ClosedSerializer]]]) -> ClosedSerializer:
    """The serializer of the one shape ``data`` has (by its key: ``track_ids`` or
    ``track_id``), validated; a body with both keys or neither is a 400 naming them."""
    if not isinstance(data, Mapping):
        raise serializers.ValidationError(
            {"non_field_errors": ["Expected a JSON object."]}, code="invalid"
        )
    present = [key for key, _ in shapes if key in data]
    if len(present) != 1:
        keys = " or ".join(f"`{key}`" for key, _ in shapes)
        message = f"Give {keys}, not both." if present else f"Give {keys}."
        raise serializers.ValidationError({key: [message] for key, _ in shapes}, code="one_of")
    serializer = dict(shapes)[present[0]](data=data)
    serializer.is_valid(raise_exception=True)
    return serializer


def tracks_add_input(data: Any) -> dict[str, Any]:
    """``{"track_id"[, "position"]}`` or ``{"track_ids"[, "position"]}`` as
    ``{"track_ids": [...], "position": int | None}``."""
    serializer = _one_of(
        data, [("track_ids", TrackAddManySerializer), ("track_id", TrackAddOneSerializer)]
    )
    values = serializer.validated_data
    ids = values["track_ids"] if "track_ids" in values else [values["track_id"]]
    return {"track_ids": ids, "position": values.get("position")}


def reorder_input(data: Any) -> dict[str, Any]:
    """``{"track_ids": [...]}`` (a full order) or ``{"track_id", "position"}`` (one move), as
    validated data with exactly one of the two shapes."""
    serializer = _one_of(
        data, [("track_ids", ReorderFullSerializer), ("track_id", ReorderMoveSerializer)]
    )
    return dict(serializer.validated_data)


TRACKS_ADD_REQUEST = PolymorphicProxySerializer(
    component_name="PlaylistTracksAdd",
    serializers=[TrackAddOneSerializer, TrackAddManySerializer],
    resource_type_field_name=None,
)
REORDER_REQUEST = PolymorphicProxySerializer(
    component_name="PlaylistReorder",
    serializers=[ReorderFullSerializer, ReorderMoveSerializer],
    resource_type_field_name=None,
)
