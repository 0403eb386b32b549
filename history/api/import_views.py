"""Import API: upload a listening export, follow its processing, undo it, take its offer.

Thin views: parse, call one service or selector, serialise. Only the caller's imports exist
here; another listener's id is "not found".
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from history.api.import_serializers import (
    ListenImportDetailSerializer,
    ListenImportSerializer,
    ListenImportUploadSerializer,
    OfferAcceptSerializer,
)
from history.imports import selectors, services
from history.models import ListenImport
from history.selectors import history_counts
from musicrec.api.pagination import PageNumberPagination
from musicrec.api.schema import ERROR_RESPONSE
from musicrec.throttling import StrictScopedRateThrottle


def _detail(request: Request, listen_import: ListenImport) -> dict[str, Any]:
    offers = selectors.listen_import_offers(user=request.user, imports=[listen_import])
    listen_import.offered_tracks = [  # type: ignore[attr-defined]
        {
            "id": offer.track.pk,
            "spotify_id": offer.track.spotify_id,
            "title": offer.track.title,
            "artists": offer.artist_names,
            "in_history": offer.in_history,
        }
        for offer in offers.get(listen_import.pk, [])
    ]
    return ListenImportDetailSerializer(listen_import).data


class ListenImportListView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    throttle_scope = "imports"

    def get_throttles(self) -> list[BaseThrottle]:
        """Uploads are heavy (the whole file is checked in the request): their own rate."""
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(StrictScopedRateThrottle())
        return throttles

    @extend_schema(
        responses={200: ListenImportSerializer(many=True), 401: ERROR_RESPONSE},
        description="The caller's imports, newest first, paginated.",
    )
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.listen_import_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(ListenImportSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": ListenImportUploadSerializer},
        responses={
            202: ListenImportSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description='field errors, or {"error", "code": "invalid_export" | '
                '"file_too_large"}',
            ),
            401: ERROR_RESPONSE,
        },
        description="Upload a Last.fm scrobble CSV, a Spotify streaming history (JSON or the "
        "ZIP), a ListenBrainz listens export (JSON / JSON lines) or a .scrobbler.log as "
        "`file`. The format is detected from the content; an unknown or corrupt file is a 400 "
        "and nothing is stored. Processing runs in the background: poll the import.",
    )
    def post(self, request: Request) -> Response:
        serializer = ListenImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        listen_import = services.listen_import_create(
            user=request.user, file=serializer.validated_data["file"]
        )
        return Response(ListenImportSerializer(listen_import).data, status=status.HTTP_202_ACCEPTED)


class ListenImportDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: ListenImportDetailSerializer, 401: ERROR_RESPONSE, 404: ERROR_RESPONSE},
        description="Status, progress 0–100, counts, the top unmatched listens and the offered "
        "tracks (most played matched tracks not in the history when the import ran).",
    )
    def get(self, request: Request, import_id: int) -> Response:
        listen_import = selectors.listen_import_get(user=request.user, import_id=import_id)
        return Response(_detail(request, listen_import))

    @extend_schema(
        request=None,
        responses={
            200: OpenApiTypes.OBJECT,
            401: ERROR_RESPONSE,
            404: ERROR_RESPONSE,
            409: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description='{"error": "...", "code": "import_processing"}: undo once it is done',
            ),
        },
        description="Undo: delete the plays this import created, then the import (a pending "
        'import is cancelled). Answers `{"removed_interactions": n}`.',
    )
    def delete(self, request: Request, import_id: int) -> Response:
        removed = services.listen_import_undo(user=request.user, import_id=import_id)
        return Response({"removed_interactions": removed})


class ListenImportOfferView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=OfferAcceptSerializer,
        responses={
            200: OpenApiTypes.OBJECT,
            400: ERROR_RESPONSE,
            401: ERROR_RESPONSE,
            404: ERROR_RESPONSE,
        },
        description="Add offered tracks to the history, all or nothing against the 50 limit. "
        'Answers `{"added", "count", "limit", "remaining"}` and, from 45 entries on, `warning`.',
    )
    def post(self, request: Request, import_id: int) -> Response:
        serializer = OfferAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = services.listen_import_offer_accept(
            user=request.user,
            import_id=import_id,
            track_ids=serializer.validated_data["track_ids"],
        )
        data: dict[str, Any] = {"added": change.added, **history_counts(change.count)}
        if change.added and change.warning:
            data["warning"] = change.warning
        return Response(data)
