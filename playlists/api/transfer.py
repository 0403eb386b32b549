"""Playlists as files: ``GET playlists/<id>/export/?format=m3u|jspf|csv`` and ``POST
playlists/import/`` (multipart ``file``, optional ``name``).

An export is a download (``Content-Disposition: attachment``): an ASCII file name made from the
playlist's name (``filename=``) and the real name in UTF-8 (``filename*=``, RFC 6266). A
playlist the caller may not read is not found (404), as everywhere. DRF reads ``?format=`` as a
renderer's name (``URL_FORMAT_OVERRIDE``) and would answer 404 to ``?format=m3u``: these views
negotiate nothing (``_JsonErrorsOnly``), their errors are always JSON and the export's body is
the file itself.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from catalog.models import ID_MAX
from musicrec.api.fields import StrictCharField
from musicrec.api.schema import Link, error_responses, response_links
from musicrec.api.schema_params import NON_BLANK_TEXT_PATTERN
from musicrec.throttling import StrictScopedRateThrottle
from playlists.api.serializers import PlaylistDetailSerializer
from playlists.models import NAME_MAX, PLAYLIST_TRACKS_MAX
from playlists.selectors.playlists import playlist_get
from playlists.selectors.transfer import EXPORT_FORMATS, playlist_export
from playlists.services.transfer import PLAYLIST_IMPORT_MAX_BYTES, playlist_import


class _JsonErrorsOnly(BaseContentNegotiation):
    """No negotiation: JSON for errors (the export's file is an HttpResponse of its own), and
    ``?format=`` left to the view."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        content_type = request.content_type.split(";")[0].strip().lower()
        return next((parser for parser in parsers if parser.media_type == content_type), None)

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


_FORMAT_PARAMETER = OpenApiParameter(
    "format",
    {"type": "string", "enum": list(EXPORT_FORMATS)},
    required=True,
    description="`m3u`: extended M3U in UTF-8 (`.m3u8`; `#EXTINF:<seconds>,<artists> - "
    "<title>` and the track's Spotify URL, else its page here, per track); `jspf`: JSPF as "
    "ListenBrainz reads it; `csv`: `position,title,artists,album,duration_ms,spotify_uri,url`.",
)

_JSPF_SCHEMA = {
    "type": "object",
    "required": ["playlist"],
    "properties": {
        "playlist": {
            "type": "object",
            "required": ["title", "creator", "extension", "track"],
            "properties": {
                "title": {"type": "string"},
                "creator": {"type": "string"},
                "annotation": {"type": "string"},
                "date": {"type": "string", "format": "date-time"},
                "extension": {"type": "object"},
                "track": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["title", "creator", "identifier"],
                        "properties": {
                            "title": {"type": "string"},
                            "creator": {"type": "string"},
                            "album": {"type": "string"},
                            "duration": {"type": "integer", "minimum": 0},
                            "identifier": {"type": "array", "items": {"type": "string"}},
                            "info": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}
_FILE = {"type": "string", "format": "binary"}


class PlaylistExportView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _JsonErrorsOnly

    @extend_schema(
        operation_id="v1_playlists_export_retrieve",
        parameters=[
            OpenApiParameter(
                "playlist_id",
                {"type": "integer", "minimum": 1, "maximum": ID_MAX},
                location=OpenApiParameter.PATH,
                description="The playlist's id (another listener's private one is not found).",
            ),
            _FORMAT_PARAMETER,
        ],
        responses={
            (200, "audio/x-mpegurl"): OpenApiResponse(_FILE, description="M3U (UTF-8)."),
            (200, "application/json"): OpenApiResponse(_JSPF_SCHEMA, description="JSPF."),
            (200, "text/csv"): OpenApiResponse(_FILE, description="CSV (UTF-8 with a BOM)."),
            **error_responses(400, 401, 404),
        },
        description="The playlist as a file to download (`Content-Disposition: attachment` "
        "with an ASCII `filename` and the playlist's own name in `filename*`). Any playlist "
        "the caller may read: their own, or another listener's public one. A missing or "
        'unknown `format` is a 400 naming it (`{"format": [...]}`).',
    )
    def get(self, request: Request, playlist_id: int) -> HttpResponse:
        formats = request.query_params.getlist("format")
        if len(formats) != 1 or formats[0] not in EXPORT_FORMATS:
            raise serializers.ValidationError(
                {"format": [f"Give one format: {', '.join(EXPORT_FORMATS)}."]}, code="invalid"
            )
        playlist = playlist_get(viewer=request.user, playlist_id=playlist_id)
        export = playlist_export(
            playlist=playlist,
            fmt=formats[0],
            base_url=request.build_absolute_uri("/").rstrip("/"),
        )
        response = HttpResponse(export.body, content_type=export.content_type)
        response["Content-Disposition"] = export.content_disposition
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


@extend_schema_field({"type": "string", "format": "binary", "minLength": 1})
class _NonEmptyFileField(serializers.FileField):
    """A file of one byte or more (an empty one is "no file" to the multipart parser)."""


class PlaylistImportUploadSerializer(serializers.Serializer):
    file = _NonEmptyFileField(
        allow_empty_file=False,
        help_text="An M3U (.m3u, .m3u8), a JSPF (.jspf: ours or ListenBrainz's) or a CSV (ours, "
        f"or Exportify's); at most {PLAYLIST_IMPORT_MAX_BYTES // 1024} kB and "
        f"{PLAYLIST_TRACKS_MAX} tracks.",
    )
    name = StrictCharField(
        required=False,
        max_length=NAME_MAX,
        pattern=NON_BLANK_TEXT_PATTERN,
        pattern_message="The name cannot be blank.",
        trim_whitespace=False,
        help_text="The new playlist's name; by default the file's title, else its file name.",
    )

    class Meta:
        ref_name = "PlaylistImportUpload"


class UnmatchedEntrySerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=1, help_text="1-based place in the file.")
    artist = serializers.CharField(allow_blank=True)
    title = serializers.CharField()
    why = serializers.ChoiceField(
        choices=[
            ("not_in_catalog", "No catalog track has this artist and title (or Spotify id)."),
            ("no_artist", "The file names no artist for it."),
        ]
    )

    class Meta:
        ref_name = "PlaylistImportUnmatched"


class DuplicateEntrySerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=1, help_text="1-based place in the file.")
    artist = serializers.CharField(allow_blank=True)
    title = serializers.CharField()
    track_id = serializers.IntegerField(min_value=1, max_value=ID_MAX)
    first_position = serializers.IntegerField(
        min_value=1, help_text="Where the file names the track first (its place in the playlist)."
    )

    class Meta:
        ref_name = "PlaylistImportDuplicate"


class PlaylistImportedSerializer(PlaylistDetailSerializer):
    """The new playlist, and what of the file it does not hold."""

    matched = serializers.SerializerMethodField()
    unmatched = serializers.SerializerMethodField()
    duplicates = serializers.SerializerMethodField()

    class Meta(PlaylistDetailSerializer.Meta):
        fields = [*PlaylistDetailSerializer.Meta.fields, "matched", "unmatched", "duplicates"]
        read_only_fields = fields
        ref_name = "PlaylistImported"

    @extend_schema_field(
        serializers.IntegerField(min_value=1, help_text="Entries of the file found in the catalog.")
    )
    def get_matched(self, playlist: Any) -> int:
        return int(self.context["outcome"].matched)

    @extend_schema_field(UnmatchedEntrySerializer(many=True))
    def get_unmatched(self, playlist: Any) -> list[dict[str, Any]]:
        return list(self.context["outcome"].unmatched)

    @extend_schema_field(DuplicateEntrySerializer(many=True))
    def get_duplicates(self, playlist: Any) -> list[dict[str, Any]]:
        return list(self.context["outcome"].duplicates)


class PlaylistImportView(APIView):
    permission_classes = [IsAuthenticated]
    # a file, in a multipart form only
    parser_classes = [MultiPartParser]
    renderer_classes = [JSONRenderer]
    throttle_scope = "playlist_imports"

    def get_throttles(self) -> list[BaseThrottle]:
        """Uploads have their own rate per listener (``THROTTLE_PLAYLIST_IMPORTS``), failing
        closed like the listening-data uploads'."""
        return [*super().get_throttles(), StrictScopedRateThrottle()]

    @extend_schema(
        operation_id="v1_playlists_import_create",
        request={"multipart/form-data": PlaylistImportUploadSerializer},
        responses={
            201: PlaylistImportedSerializer,
            **error_responses(400, 401, 413, 429, 503),
        },
        description="Make a private playlist from a file: M3U, JSPF or CSV, as exported here, "
        "by ListenBrainz (JSPF) or by Exportify (CSV). The format is recognised from the "
        "content (else the extension). Tracks are matched by Spotify id, then by artist and "
        'title (case, accents of artists, punctuation, "feat." and "Remastered" '
        "suffixes do not matter); a track named twice is in the playlist once (`duplicates`); "
        "what is not in the catalog is listed in `unmatched`. A file that is not a playlist, "
        f"is malformed or holds more than {PLAYLIST_TRACKS_MAX} tracks is a 400 "
        "(`invalid_file`, the message says what is wrong and where); a file none of whose "
        "tracks is in the catalog a 400 (`nothing_matched`, with `unmatched`): no empty "
        f"playlist is made. Over {PLAYLIST_IMPORT_MAX_BYTES // 1024} kB: 413 "
        "(`file_too_large`). A listener at their playlist limit: 400 "
        "(`playlist_limit_reached`). Uploads are rate-limited per listener (429; 503 when the "
        "limit cannot be checked). Nothing is stored on a refusal.",
        extensions=response_links(
            {
                201: {
                    "GetPlaylist": Link("v1_playlists_retrieve", playlist_id="id"),
                    "ExportPlaylist": Link("v1_playlists_export_retrieve", playlist_id="id"),
                }
            }
        ),
    )
    def post(self, request: Request) -> Response:
        upload = PlaylistImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        outcome = playlist_import(
            owner=request.user,
            upload=upload.validated_data["file"],
            name=upload.validated_data.get("name"),
        )
        data = PlaylistImportedSerializer(outcome.playlist, context={"outcome": outcome}).data
        return Response(data, status=status.HTTP_201_CREATED)
