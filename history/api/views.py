"""History API: the caller's own 50-track history (list, add, clear, remove one), the
interaction event log, and listening-data imports (upload, follow, undo, take the offer).

Thin views: parse, call one service or selector, serialise. Every view works on
``request.user`` only; another listener's entry or import id is simply "not found", and there is
no per-listener URL for events, so one listener cannot address another's data.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from catalog.models import ID_MAX
from history.api.serializers import (
    BOUND_SCHEMA,
    HistoryAddedSerializer,
    HistoryAddSerializer,
    HistoryClearedSerializer,
    HistoryEntrySerializer,
    HistorySummarySerializer,
    InteractionFilterSerializer,
    InteractionInputSerializer,
    InteractionSerializer,
    ListenImportDetailSerializer,
    ListenImportSerializer,
    ListenImportUndoneSerializer,
    ListenImportUploadSerializer,
    OfferAcceptedSerializer,
    OfferAcceptSerializer,
    history_counts_fields,
)
from history.models import Interaction, ListenImport
from history.selectors import entries as entry_selectors
from history.selectors import imports as import_selectors
from history.selectors import interactions as interaction_selectors
from history.services import entries as entry_services
from history.services import imports as import_services
from history.services import interactions as interaction_services
from musicrec.api.pagination import PageNumberPagination
from musicrec.api.parsers import JSONParser
from musicrec.api.schema import (
    PAGE_PARAMETERS,
    Link,
    error_responses,
    paginated,
    response_links,
)
from musicrec.errors import ApplicationError
from musicrec.throttling import StrictScopedRateThrottle


def _id_in_path(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "integer", "minimum": 1, "maximum": ID_MAX},
        location=OpenApiParameter.PATH,
        description=f"The {what}'s id (another listener's is not found).",
    )


def _with(responses: dict[int, Any], description: str, status_code: int) -> dict[int, Any]:
    """``responses`` with the description of one status replaced."""
    response = responses[status_code]
    return {**responses, status_code: OpenApiResponse(response.response, description=description)}


class HistoryView(APIView):
    permission_classes = [IsAuthenticated]
    # JSON only: a form cannot say null, and one body in three media types makes generated
    # clients choose (openapi-python-client sends multipart)
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="v1_history_list",
        parameters=PAGE_PARAMETERS,
        responses={
            200: paginated(
                HistoryEntrySerializer, name="HistoryEntry", extra=history_counts_fields()
            ),
            **error_responses(400, 401, 404),
        },
        description="The caller's entries, newest first, paginated; `count` is the number of "
        "entries, with `limit` (50) and `remaining` next to it.",
    )
    def get(self, request: Request) -> Response:
        entries = entry_selectors.history_list(user=request.user)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        response = paginator.get_paginated_response(HistoryEntrySerializer(page, many=True).data)
        response.data.update(entry_selectors.history_counts(paginator.page.paginator.count))
        return response

    @extend_schema(
        request=HistoryAddSerializer,
        responses={
            201: HistoryAddedSerializer,
            200: OpenApiResponse(
                HistoryAddedSerializer, description="Already in the history: nothing changed."
            ),
            **_with(
                error_responses(400, 401, 404),
                "Field errors; or the history is full: "
                '`{"error", "code": "history_limit_reached", "limit": 50, "count": 50}`.',
                400,
            ),
        },
        description="Add a track. From the 45th entry on the answer carries `warning` "
        '("5 slots remaining" … "0 slots remaining"). A track already in the history comes '
        "back with 200 and uses no slot, even when the history is full; a 51st entry is refused "
        "and nothing changes. An unknown track is a 404.",
        extensions=response_links(
            {
                201: {"RemoveEntry": Link("v1_history_destroy", entry_id="id")},
                200: {"RemoveEntry": Link("v1_history_destroy", entry_id="id")},
            }
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = HistoryAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = entry_services.history_entry_add(
            user=request.user, track_id=serializer.validated_data["track_id"]
        )
        data: dict[str, Any] = {
            **HistoryEntrySerializer(change.entry).data,
            **entry_selectors.history_counts(change.count),
        }
        if change.created and change.warning:
            data["warning"] = change.warning
        return Response(
            data, status=status.HTTP_201_CREATED if change.created else status.HTTP_200_OK
        )

    @extend_schema(
        operation_id="v1_history_clear",
        request=None,
        responses={200: HistoryClearedSerializer, **error_responses(401)},
        description="Clear the history; answers with the (empty) summary and `removed`.",
    )
    def delete(self, request: Request) -> Response:
        removed = entry_services.history_clear(user=request.user)
        return Response({"removed": removed, **entry_selectors.history_counts(0)})


class HistoryEntryView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_id_in_path("entry_id", "history entry")],
        request=None,
        responses={200: HistorySummarySerializer, **error_responses(401, 404)},
        description="Remove one entry (by the entry's id); answers with the new summary.",
    )
    def delete(self, request: Request, entry_id: int) -> Response:
        count = entry_services.history_entry_remove(user=request.user, entry_id=entry_id)
        return Response(entry_selectors.history_counts(count))


class InteractionListView(APIView):
    permission_classes = [IsAuthenticated]
    # JSON only: a form cannot say null, and one body in three media types makes generated
    # clients choose (openapi-python-client sends multipart)
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="v1_interactions_list",
        parameters=[
            OpenApiParameter(
                "kind",
                {
                    "type": "array",
                    "items": {"type": "string", "enum": Interaction.Kind.values},
                    "minItems": 1,
                },
                explode=False,
                style="form",
                description="Only these kinds: one, or several comma-separated (`play,skip`); "
                "the parameter may also be repeated.",
            ),
            OpenApiParameter(
                "since",
                BOUND_SCHEMA,
                description="From this date (the whole day, in the site's time zone) or "
                "date-time (RFC 3339, with its time zone) on, inclusive.",
            ),
            OpenApiParameter(
                "until",
                BOUND_SCHEMA,
                description="To the end of this date, or up to this date-time (exclusive). A "
                "`since` at or after `until` is an empty range.",
            ),
            *PAGE_PARAMETERS,
        ],
        responses={
            200: paginated(InteractionSerializer, name="Interaction"),
            **error_responses(400, 401, 404),
        },
        description="The caller's events, newest first, paginated.",
    )
    def get(self, request: Request) -> Response:
        filters = InteractionFilterSerializer.from_query(request.query_params)
        filters.is_valid(raise_exception=True)
        events = interaction_selectors.interaction_list(user=request.user, **filters.validated_data)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(InteractionSerializer(page, many=True).data)

    @extend_schema(
        request=InteractionInputSerializer,
        responses={
            201: InteractionSerializer,
            **_with(
                error_responses(400, 401, 404),
                "An unknown track (`not_found`), or an `impression_id` that is not one of the "
                "caller's served lists (`unknown_impression`); nothing is stored.",
                404,
            ),
        },
        description="Record a play, skip, like, dislike or add_to_playlist. The context "
        "defaults to the listener's current mood and activity. A like or dislike also becomes "
        "the listener's opinion of the track. An unknown track is a 404. Feedback on a "
        "recommended track carries the list's `impression_id`.",
    )
    def post(self, request: Request) -> Response:
        serializer = InteractionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        impression_id = serializer.validated_data.get("impression_id")
        if impression_id is not None and not interaction_selectors.impression_owned(
            user=request.user, impression_id=impression_id
        ):
            # another listener's list is as unknown as one never served: nothing told
            raise ApplicationError(
                "No such recommendation list.", code="unknown_impression", status=404
            )
        event = interaction_services.interaction_record(
            user=request.user, **serializer.validated_data
        )
        event = interaction_selectors.interaction_list(user=request.user).get(pk=event.pk)
        return Response(InteractionSerializer(event).data, status=status.HTTP_201_CREATED)


def _detail(request: Request, listen_import: ListenImport) -> dict[str, Any]:
    offers = import_selectors.listen_import_offers(user=request.user, imports=[listen_import])
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


_IMPORT_LINKS = {
    "GetImport": Link("v1_imports_retrieve", import_id="id"),
    "UndoImport": Link("v1_imports_destroy", import_id="id"),
    "AcceptOffer": Link("v1_imports_offer_create", import_id="id"),
}


class ListenImportListView(APIView):
    permission_classes = [IsAuthenticated]
    # A file, in a multipart form only (a url-encoded form cannot carry one: 415).
    parser_classes = [MultiPartParser]
    throttle_scope = "imports"

    def get_throttles(self) -> list[BaseThrottle]:
        """Uploads are heavy (up to 50 MB stored, a worker's processing): their own rate,
        shared with the upload page (musicrec.throttling.upload_rate_limit)."""
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(StrictScopedRateThrottle())
        return throttles

    @extend_schema(
        operation_id="v1_imports_list",
        parameters=PAGE_PARAMETERS,
        responses={
            200: paginated(ListenImportSerializer, name="ListenImport"),
            **error_responses(400, 401, 404),
        },
        description="The caller's imports, newest first, paginated.",
    )
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            import_selectors.listen_import_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(ListenImportSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": ListenImportUploadSerializer},
        responses={
            202: ListenImportSerializer,
            **_with(
                error_responses(400, 401, 413, 429, 503),
                "Field errors (no file, an empty file); or the file is not a known export, or "
                'is corrupt within its first entries: `{"error", "code": "invalid_export"}`.',
                400,
            ),
        },
        description="Upload a Last.fm scrobble CSV, a Spotify streaming history (JSON or the "
        "ZIP), a ListenBrainz listens export (JSON / JSON lines) or a .scrobbler.log as "
        "`file`. The format is detected from the content and the first entries are checked: "
        "an unknown format or a file corrupt there is a 400 and nothing is stored; a file over "
        "50 MB is a 413 (`file_too_large`). Processing runs in the background: poll the import; "
        "a file corrupt further in ends `failed` with an `error` naming the entry, and no play "
        "of it is stored. Uploads are rate-limited per listener (429; 503 when the limit "
        "cannot be checked).",
        extensions=response_links({202: _IMPORT_LINKS}),
    )
    def post(self, request: Request) -> Response:
        serializer = ListenImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        listen_import = import_services.listen_import_create(
            user=request.user, file=serializer.validated_data["file"]
        )
        return Response(ListenImportSerializer(listen_import).data, status=status.HTTP_202_ACCEPTED)


class ListenImportDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_id_in_path("import_id", "import")],
        responses={200: ListenImportDetailSerializer, **error_responses(401, 404)},
        description="Status, progress 0–100, counts, the top unmatched listens and the offered "
        "tracks (most played matched tracks not in the history when the import ran).",
    )
    def get(self, request: Request, import_id: int) -> Response:
        listen_import = import_selectors.listen_import_get(user=request.user, import_id=import_id)
        return Response(_detail(request, listen_import))

    @extend_schema(
        parameters=[_id_in_path("import_id", "import")],
        request=None,
        responses={
            200: ListenImportUndoneSerializer,
            **_with(
                error_responses(401, 404, 409),
                'The import is being processed (`{"error", "code": "import_processing"}`): '
                "undo it once it is done.",
                409,
            ),
        },
        description="Undo: delete the plays this import created, then the import (a pending "
        "import is cancelled).",
    )
    def delete(self, request: Request, import_id: int) -> Response:
        removed = import_services.listen_import_undo(user=request.user, import_id=import_id)
        return Response({"removed_interactions": removed})


class ListenImportOfferView(APIView):
    permission_classes = [IsAuthenticated]
    # JSON only: a form cannot say null, and one body in three media types makes generated
    # clients choose (openapi-python-client sends multipart)
    parser_classes = [JSONParser]

    @extend_schema(
        parameters=[_id_in_path("import_id", "import")],
        request=OfferAcceptSerializer,
        responses={
            200: OfferAcceptedSerializer,
            **_with(
                _with(
                    error_responses(400, 401, 404),
                    "Field errors; or a track the import did not offer "
                    '(`{"error", "code": "not_offered", "not_offered": [ids]}`); or they do not '
                    'all fit (`{"error", "code": "history_limit_reached", "limit", "count", '
                    '"requested"}`). Nothing is added.',
                    400,
                ),
                "No such import, or a track that no longer exists "
                '(`{"error", "code": "not_found", "missing": [ids]}`).',
                404,
            ),
        },
        description="Add offered tracks to the history, all or nothing against the 50 limit. "
        "From 45 entries on the answer carries `warning`.",
    )
    def post(self, request: Request, import_id: int) -> Response:
        serializer = OfferAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = import_services.listen_import_offer_accept(
            user=request.user,
            import_id=import_id,
            track_ids=serializer.validated_data["track_ids"],
        )
        data: dict[str, Any] = {
            "added": change.added,
            **entry_selectors.history_counts(change.count),
        }
        if change.added and change.warning:
            data["warning"] = change.warning
        return Response(data)
