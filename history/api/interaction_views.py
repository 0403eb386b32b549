"""Interaction API: the caller's own event log. Thin views over ``history.interactions``.

Every view works on ``request.user`` only; there is no per-listener URL, so one listener
cannot address another's events.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from history import interactions
from history.api.interaction_serializers import (
    InteractionFilterSerializer,
    InteractionInputSerializer,
    InteractionSerializer,
)
from musicrec.api.pagination import PageNumberPagination
from musicrec.api.schema import ERROR_RESPONSE, FIELD_ERRORS


class InteractionListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, description="one kind or several, comma-separated"),
            OpenApiParameter("since", str, description="ISO date or date-time (inclusive)"),
            OpenApiParameter("until", str, description="ISO date (whole day) or date-time"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="1–100"),
        ],
        responses={
            200: InteractionSerializer(many=True),
            400: FIELD_ERRORS,
            401: ERROR_RESPONSE,
        },
        description="The caller's events, newest first, paginated.",
    )
    def get(self, request: Request) -> Response:
        filters = InteractionFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        events = interactions.interaction_list(user=request.user, **filters.validated_data)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(InteractionSerializer(page, many=True).data)

    @extend_schema(
        request=InteractionInputSerializer,
        responses={
            201: InteractionSerializer,
            400: FIELD_ERRORS,
            401: ERROR_RESPONSE,
            404: ERROR_RESPONSE,
        },
        description="Record a play, skip, like, dislike or add_to_playlist. The context "
        "defaults to the listener's current mood and activity. A like or dislike also becomes "
        "the listener's opinion of the track.",
    )
    def post(self, request: Request) -> Response:
        serializer = InteractionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = interactions.interaction_record(user=request.user, **serializer.validated_data)
        event = interactions.interaction_list(user=request.user).get(pk=event.pk)
        return Response(InteractionSerializer(event).data, status=status.HTTP_201_CREATED)
