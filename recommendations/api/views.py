"""Recommendations API: the caller's own list (``GET /api/v1/recommendations/``).

Thin: parse the query, call ``services.lists.recommendation_list_serve`` (the one path every
surface serves a list through: cached, recorded as an impression), send its payload.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from musicrec.api.schema import error_responses
from recommendations.api.serializers import (
    QUERY_PARAMETERS,
    RecommendationListSerializer,
    RecommendationQueryForm,
)
from recommendations.models import ImpressionSurface
from recommendations.services.lists import recommendation_list_serve


class RecommendationListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="v1_recommendations_retrieve",
        parameters=QUERY_PARAMETERS,
        responses={200: RecommendationListSerializer, **error_responses(400, 401)},
        description="The caller's recommendations, best first: each result with its track, "
        "`confidence`, each source's score and the reasons. `mood`, `activity` and "
        "`discovery` apply to this list only. Every answer is a new served list with its own "
        "`impression_id` (send it back with the feedback on its results). A value out of its "
        "range or not one of its choices is a 400 naming the parameter.",
    )
    def get(self, request: Request) -> Response:
        query = RecommendationQueryForm.from_query(request.query_params)
        if not query.is_valid():
            raise ValidationError(query.errors)
        served = recommendation_list_serve(
            user=request.user, surface=ImpressionSurface.API, **query.parameters()
        )
        return Response(served.payload)
