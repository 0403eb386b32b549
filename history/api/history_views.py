"""History API: the caller's own 50-track history (list, add, clear, remove one).

Thin views: parse, call one service or selector, serialise. Every view works on
``request.user``; an entry id of another listener is simply "not found".
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from history import selectors, services
from history.api.history_serializers import (
    HistoryAddedSerializer,
    HistoryAddSerializer,
    HistoryEntrySerializer,
    HistorySummarySerializer,
)
from musicrec.api.pagination import PageNumberPagination
from musicrec.api.schema import ERROR_RESPONSE, FIELD_ERRORS


class HistoryView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: HistoryEntrySerializer(many=True), 400: FIELD_ERRORS, 401: ERROR_RESPONSE},
        description="The caller's entries, newest first, paginated; `count` is the number of "
        "entries, with `limit` (50) and `remaining` next to it.",
    )
    def get(self, request: Request) -> Response:
        entries = selectors.history_list(user=request.user)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        response = paginator.get_paginated_response(HistoryEntrySerializer(page, many=True).data)
        response.data.update(selectors.history_counts(paginator.page.paginator.count))
        return response

    @extend_schema(
        request=HistoryAddSerializer,
        responses={
            201: HistoryAddedSerializer,
            200: OpenApiResponse(HistoryAddedSerializer, description="already in the history"),
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description='field errors, or {"error", "code": "history_limit_reached", '
                '"limit": 50, "count": 50}',
            ),
            401: ERROR_RESPONSE,
            404: ERROR_RESPONSE,
        },
        description="Add a track. From the 45th entry on the answer carries `warning` "
        '("5 slots remaining" … "0 slots remaining"). A track already in the history comes '
        "back with 200 and uses no slot, even when the history is full; a 51st entry is refused "
        "and nothing changes.",
    )
    def post(self, request: Request) -> Response:
        serializer = HistoryAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = services.history_entry_add(
            user=request.user, track_id=serializer.validated_data["track_id"]
        )
        data: dict[str, Any] = {
            **HistoryEntrySerializer(change.entry).data,
            **selectors.history_counts(change.count),
        }
        if change.created and change.warning:
            data["warning"] = change.warning
        return Response(
            data, status=status.HTTP_201_CREATED if change.created else status.HTTP_200_OK
        )

    @extend_schema(
        operation_id="v1_history_clear",
        request=None,
        responses={200: HistorySummarySerializer, 401: ERROR_RESPONSE},
        description="Clear the history; answers with the (empty) summary and `removed`.",
    )
    def delete(self, request: Request) -> Response:
        removed = services.history_clear(user=request.user)
        return Response({"removed": removed, **selectors.history_counts(0)})


class HistoryEntryView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: HistorySummarySerializer, 401: ERROR_RESPONSE, 404: ERROR_RESPONSE},
        description="Remove one entry (by the entry's id); answers with the new summary.",
    )
    def delete(self, request: Request, entry_id: int) -> Response:
        count = services.history_entry_remove(user=request.user, entry_id=entry_id)
        return Response(selectors.history_counts(count))
