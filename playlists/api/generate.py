"""Generating a playlist: ``POST /api/v1/playlists/generate/``.

Thin: parse the JSON body, call ``playlists.services.generate.playlist_generate``, answer 201
with the new playlist (``PlaylistDetailSerializer``: its ordered tracks). Which fields each
kind needs cannot be said by one flat body schema (a radio needs one of two fields, a path two
different tracks), so the operation's description gives the body of each kind, and the
service's per-field errors say what is missing.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.validators import Activity, Mood
from catalog.models import ID_MAX
from musicrec.api.fields import StrictIntegerField
from musicrec.api.parsers import JSONParser
from musicrec.api.schema import error_responses
from playlists.api.serializers import (
    ClosedSerializer,
    PlaylistDetailSerializer,
    StrictBooleanField,
)
from playlists.services.generate import (
    GENERATION_KINDS,
    LENGTH_MAX,
    LENGTH_MIN,
    SEED_MAX,
    playlist_generate,
)


def _id(what: str) -> StrictIntegerField:
    return StrictIntegerField(
        min_value=1, max_value=ID_MAX, required=False, allow_null=True, help_text=what
    )


class PlaylistGenerateSerializer(ClosedSerializer):
    """The body: every kind's fields (a key not listed here is a 400 naming it)."""

    kind = serializers.ChoiceField(
        choices=GENERATION_KINDS,
        help_text="How to make it: `recommendations`, `radio`, `mood` or `path`.",
    )
    length = StrictIntegerField(
        min_value=LENGTH_MIN,
        max_value=LENGTH_MAX,
        help_text="Tracks wanted (a path's include both ends). Fewer when the tracks you may "
        "be given cannot fill it.",
    )
    seed_track_id = _id("radio: the track it starts from (or `seed_artist_id`).")
    seed_artist_id = _id("radio: the artist it starts from (or `seed_track_id`).")
    mood = serializers.ChoiceField(
        choices=Mood.choices,
        required=False,
        allow_null=True,
        help_text="mood: the mood the tracks fit (and/or `activity`).",
    )
    activity = serializers.ChoiceField(
        choices=Activity.choices,
        required=False,
        allow_null=True,
        help_text="mood: the activity the tracks fit (and/or `mood`).",
    )
    from_track_id = _id("path: the track it starts at.")
    to_track_id = _id("path: the track it ends at (another one).")
    seed = StrictIntegerField(
        min_value=0,
        max_value=SEED_MAX,
        required=False,
        allow_null=True,
        help_text="The same seed makes the same playlist from the same model; none: one is "
        "drawn (and kept in `origin_parameters`).",
    )
    is_public = StrictBooleanField(required=False, default=False)


DESCRIPTION = f"""A new playlist of the caller's, made by one of four kinds and named after how
it was made ("Radio from …", "Energetic exercise mix", "From … to …", "Your recommendations,
30 November"). It never holds a track the caller disliked, one of a genre they dislike, or one by
an artist they blocked (the tracks they name themselves excepted); when those rules leave too
few tracks the playlist is shorter, and its `origin_parameters` say `requested` and `found`.
A field another kind needs is ignored; a key not listed is a 400 naming it. The body of each
kind (`length` {LENGTH_MIN}–{LENGTH_MAX}, `seed` and `is_public` optional):

- `{{"kind": "recommendations", "length": 30}}`: the caller's recommendations;
- `{{"kind": "radio", "length": 30, "seed_track_id": 12}}` or `"seed_artist_id": 7` (exactly
  one): similar tracks drifting away from the seed, never one artist more than twice in a row;
  a track radio starts with that track;
- `{{"kind": "mood", "length": 30, "mood": "energetic", "activity": "exercise"}}` (a mood, an
  activity or both): tracks whose audio features fit them and the caller's taste;
- `{{"kind": "path", "length": 20, "from_track_id": 12, "to_track_id": 34}}` (two different
  tracks): a sonic path, the audio features moving evenly from the first to the last.

A field a kind needs that is missing, both radio seeds, or a path from a track to itself is a
400 naming the field; an unknown track or artist a 404."""


class PlaylistGenerateView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="v1_playlists_generate_create",
        request=PlaylistGenerateSerializer,
        responses={
            201: PlaylistDetailSerializer,
            **error_responses(400, 401),
            404: OpenApiResponse(
                error_responses(404)[404].response,
                description="`not_found`: no track or artist with a given id.",
            ),
        },
        description=DESCRIPTION,
        examples=[
            OpenApiExample(
                "Energetic exercise mix",
                value={"kind": "mood", "length": 20, "mood": "energetic", "activity": "exercise"},
                request_only=True,
            ),
            OpenApiExample(
                "Recommendations",
                value={"kind": "recommendations", "length": 30},
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        body = PlaylistGenerateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        playlist = playlist_generate(owner=request.user, **body.validated_data)
        return Response(
            PlaylistDetailSerializer(playlist, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )
