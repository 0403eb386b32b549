"""Playlists API: a listener's playlists, their tracks and their order.

Thin views: parse, call one service or selector, serialise. Who may do what is decided by the
selectors (``playlists.selectors.playlists``): a playlist the caller may not read — another
listener's private one, or one that does not exist — is a 404 (its existence is not revealed);
another listener's public one may be read, and a change to it is a 403 (``forbidden``).
Anonymous callers get a 401 everywhere. Every change answers with the playlist as it now is
(``PlaylistDetailSerializer``), so a client never needs a second request to redraw it.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import USERNAME_MAX_LENGTH, USERNAME_PATTERN
from catalog.models import ID_MAX
from musicrec.api.pagination import PageNumberPagination
from musicrec.api.parsers import JSONParser
from musicrec.api.schema import (
    NO_CONTENT,
    PAGE_PARAMETERS,
    AutoSchema,
    Link,
    error_responses,
    paginated,
    response_links,
)
from musicrec.api.schema_params import query_parameter
from playlists.api.serializers import (
    REORDER_REQUEST,
    TRACKS_ADD_REQUEST,
    PlaylistCreateSerializer,
    PlaylistDetailSerializer,
    PlaylistSerializer,
    PlaylistUpdateSerializer,
    reorder_input,
    tracks_add_input,
)
from playlists.models import Playlist
from playlists.selectors import owners as owner_selectors
from playlists.selectors import playlists as selectors
from playlists.services import playlists as services


def _id_in_path(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "integer", "minimum": 1, "maximum": ID_MAX},
        location=OpenApiParameter.PATH,
        description=f"The {what}'s id.",
    )


PLAYLIST_ID = _id_in_path("playlist_id", "playlist")


def _with(responses: dict[int, Any], status_code: int, description: str) -> dict[int, Any]:
    """``responses`` with the description of one status replaced (naming its codes)."""
    response = responses[status_code]
    return {**responses, status_code: OpenApiResponse(response.response, description=description)}


NOT_VISIBLE = (
    "No such playlist, or another listener's private one (`not_found`: its existence is not "
    "revealed)."
)
NOT_OWNED = "Another listener's public playlist: only its owner changes it (`forbidden`)."


def _change_errors(*statuses: int, **descriptions: str) -> dict[int, Any]:
    """The errors of a change to a playlist: 401, 403 (not the owner's), 404 (not visible),
    and ``statuses``, with ``descriptions`` by ``s<status>``."""
    responses = error_responses(*sorted({401, 403, 404, *statuses}))
    responses = _with(responses, 403, NOT_OWNED)
    responses = _with(responses, 404, descriptions.pop("s404", NOT_VISIBLE))
    for key, description in descriptions.items():
        responses = _with(responses, int(key[1:]), description)
    return responses


_PLAYLIST_LINKS = {
    "GetPlaylist": Link("v1_playlists_retrieve", playlist_id="id"),
    "UpdatePlaylist": Link("v1_playlists_partial_update", playlist_id="id"),
    "DeletePlaylist": Link("v1_playlists_destroy", playlist_id="id"),
    "AddTracks": Link("v1_playlists_tracks_create", playlist_id="id"),
    "ReorderPlaylist": Link("v1_playlists_reorder_create", playlist_id="id"),
}


def detail(playlist: Playlist) -> dict[str, Any]:
    """The playlist as the detail answers show it (tracks in order; totals of those)."""
    return PlaylistDetailSerializer(
        playlist, context={"entries": selectors.playlist_entries(playlist=playlist)}
    ).data


class BodyRequiredAutoSchema(AutoSchema):
    """The API's schema, with the request body required: a body of two shapes (``oneOf``) has
    no required property for drf-spectacular to infer it from, yet no body is a 400."""

    def _get_request_body(self, direction: str = "request") -> dict[str, Any] | None:
        body = super()._get_request_body(direction)
        if body:
            body["required"] = True
        return body


class PlaylistListView(APIView):
    permission_classes = [IsAuthenticated]
    # JSON only: a form cannot say null, and one body in three media types makes generated
    # clients choose (openapi-python-client sends multipart)
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="v1_playlists_list",
        parameters=[
            query_parameter(
                "owner",
                {
                    "type": "string",
                    "pattern": USERNAME_PATTERN,
                    "minLength": 1,
                    "maxLength": USERNAME_MAX_LENGTH,
                },
                "A listener's username (in any case): their public playlists (all of them "
                "when it is the caller's own). Missing: the caller's own playlists, public and "
                "private. An unknown listener is a 404.",
            ),
            *PAGE_PARAMETERS,
        ],
        responses={
            200: paginated(PlaylistSerializer, name="Playlist"),
            **_with(
                error_responses(400, 401, 404),
                404,
                "No such listener (`not_found`), or a page past the last.",
            ),
        },
        description="Playlists, most recently changed first, paginated, each with its track "
        "count and total duration: the caller's own, or another listener's public ones "
        "(`?owner=`).",
    )
    def get(self, request: Request) -> Response:
        owner = None
        username = request.query_params.get("owner")
        if username is not None:
            owner = owner_selectors.playlist_owner_get(username=username)
        playlists = selectors.playlist_list(viewer=request.user, owner=owner)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(playlists, request, view=self)
        return paginator.get_paginated_response(PlaylistSerializer(page, many=True).data)

    @extend_schema(
        request=PlaylistCreateSerializer,
        responses={
            201: PlaylistDetailSerializer,
            **_with(
                error_responses(400, 401),
                400,
                "Field errors (an unknown field too); or the caller has the most playlists one "
                'listener keeps: `{"error", "code": "playlist_limit_reached", "limit": 500, '
                '"count"}`.',
            ),
        },
        description="Make an empty playlist (private unless `is_public`). A listener keeps "
        "at most 500 playlists.",
        extensions=response_links({201: _PLAYLIST_LINKS}),
    )
    def post(self, request: Request) -> Response:
        serializer = PlaylistCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        playlist = services.playlist_create(owner=request.user, **serializer.validated_data)
        return Response(detail(playlist), status=status.HTTP_201_CREATED)


class PlaylistDetailView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        parameters=[PLAYLIST_ID],
        responses={
            200: PlaylistDetailSerializer,
            **_with(error_responses(401, 404), 404, NOT_VISIBLE),
        },
        description="A playlist with its tracks in order: the caller's own, or another "
        "listener's public one.",
    )
    def get(self, request: Request, playlist_id: int) -> Response:
        playlist = selectors.playlist_get(viewer=request.user, playlist_id=playlist_id)
        return Response(detail(playlist))

    @extend_schema(
        parameters=[PLAYLIST_ID],
        request=PlaylistUpdateSerializer,
        responses={200: PlaylistDetailSerializer, **_change_errors(400)},
        description="Rename, describe, make public or private: the fields given change, the "
        "others stay.",
    )
    def patch(self, request: Request, playlist_id: int) -> Response:
        serializer = PlaylistUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        playlist = services.playlist_update(
            user=request.user, playlist_id=playlist_id, **serializer.validated_data
        )
        return Response(detail(playlist))

    @extend_schema(
        parameters=[PLAYLIST_ID],
        request=None,
        responses={204: NO_CONTENT, **_change_errors()},
        description="Delete a playlist of the caller's, with its entries.",
    )
    def delete(self, request: Request, playlist_id: int) -> Response:
        services.playlist_delete(user=request.user, playlist_id=playlist_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PlaylistTracksView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    schema = BodyRequiredAutoSchema()

    @extend_schema(
        operation_id="v1_playlists_tracks_create",
        parameters=[PLAYLIST_ID],
        request=TRACKS_ADD_REQUEST,
        responses={
            201: PlaylistDetailSerializer,
            **_change_errors(
                400,
                409,
                s400="Field errors (both `track_id` and `track_ids`, or neither; a track "
                "named twice; an unknown field); or the tracks do not fit "
                '(`{"error", "code": "playlist_full", "limit": 500, "count", "requested"}`); '
                'or the position is past the end (`{"error", "code": "invalid_position", '
                '"position", "last"}`). Nothing is added.',
                s404=f"{NOT_VISIBLE} Or an unknown track "
                '(`{"error", "code": "not_found", "missing": [ids]}`).',
                s409="A track is in a playlist once: one of these is there already "
                '(`{"error", "code": "already_in_playlist", "track_ids": [ids]}`). Nothing '
                "is added.",
            ),
        },
        description="Add one track (`track_id`) or several in this order (`track_ids`) at "
        "`position` (1 = first; the end by default): all or nothing. A playlist holds at most "
        "500 tracks, each once. Each added track counts as an `add_to_playlist` interaction "
        "(a liking the recommender learns from). Answers with the playlist.",
    )
    def post(self, request: Request, playlist_id: int) -> Response:
        values = tracks_add_input(request.data)
        added = services.playlist_tracks_add(
            user=request.user,
            playlist_id=playlist_id,
            track_ids=values["track_ids"],
            position=values["position"],
        )
        return Response(detail(added.playlist), status=status.HTTP_201_CREATED)


class PlaylistTrackView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="v1_playlists_tracks_destroy",
        parameters=[PLAYLIST_ID, _id_in_path("track_id", "track")],
        request=None,
        responses={
            200: PlaylistDetailSerializer,
            **_change_errors(s404=f"{NOT_VISIBLE} Or the track is not in it (`not_found`)."),
        },
        description="Take a track out of a playlist of the caller's (the others close up). "
        "Answers with the playlist.",
    )
    def delete(self, request: Request, playlist_id: int, track_id: int) -> Response:
        services.playlist_track_remove(
            user=request.user, playlist_id=playlist_id, track_id=track_id
        )
        playlist = selectors.playlist_get(viewer=request.user, playlist_id=playlist_id)
        return Response(detail(playlist))


class PlaylistReorderView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    schema = BodyRequiredAutoSchema()

    @extend_schema(
        operation_id="v1_playlists_reorder_create",
        parameters=[PLAYLIST_ID],
        request=REORDER_REQUEST,
        responses={
            200: PlaylistDetailSerializer,
            **_change_errors(
                400,
                s400="Field errors (both shapes or neither, a track named twice, an unknown "
                "field); or the order does not name every track of the playlist exactly once "
                '(`{"error", "code": "invalid_order", "missing", "unexpected", "repeated"}`); '
                'or the position is past the end (`{"error", "code": "invalid_position", '
                '"position", "last"}`). Nothing changes.',
                s404=f"{NOT_VISIBLE} Or the track to move is not in it (`not_found`).",
            ),
        },
        description='Put the playlist in a new order: `{"track_ids": [...]}` names every track '
        'once, in the order wanted; `{"track_id", "position"}` moves one track to a 1-based '
        "place (1 = first, the length = last). A move writes one entry. Answers with the "
        "playlist in its new order.",
    )
    def post(self, request: Request, playlist_id: int) -> Response:
        values = reorder_input(request.data)
        if "track_ids" in values:
            services.playlist_reorder(
                user=request.user, playlist_id=playlist_id, track_ids=values["track_ids"]
            )
        else:
            services.playlist_track_move(
                user=request.user,
                playlist_id=playlist_id,
                track_id=values["track_id"],
                position=values["position"],
            )
        playlist = selectors.playlist_get(viewer=request.user, playlist_id=playlist_id)
        return Response(detail(playlist))
