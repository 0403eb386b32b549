"""The recommender's endpoints beside the catalog's: trending tracks, similar tracks, and the
site's figures. Thin: parse the query, call one selector, serialise. All three are public
reads (a visitor sees trending on the home page and similar tracks on a track page) with the
per-address (visitors) and per-listener (signed in) rate limits of every API read."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api.filters import genre_reference_schema
from catalog.models import ID_MAX
from musicrec.api.schema import error_responses
from musicrec.api.schema_params import integer_schema, query_parameter
from recommendations.api.catalog_serializers import (
    SimilarQuerySerializer,
    SimilarSerializer,
    StatsSerializer,
    TrendingQuerySerializer,
    TrendingSerializer,
)
from recommendations.selectors import popularity, similar, stats

# Public reads: a token that is not valid is still a 401, and every caller has a rate limit.
READ_ERRORS = (401, 429)


class TrendingView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            query_parameter(
                "genre",
                genre_reference_schema(),
                "Only this genre's trending tracks: a genre id or slug (see `/api/v1/genres/`). "
                "A genre that does not exist is a 400 naming `genre`.",
            ),
            query_parameter(
                "n",
                integer_schema(1, popularity.TRENDING_MAX),
                f"How many tracks, 1 to {popularity.TRENDING_MAX} "
                f"(default {popularity.TRENDING_DEFAULT}).",
            ),
        ],
        responses={200: TrendingSerializer, **error_responses(400, *READ_ERRORS)},
        description="The most trending tracks on the site, overall or in one genre, best first: "
        "recent plays and likes with time decay, from the popularity views (refreshed every 15 "
        "minutes). A bounded list, not paginated. Public.",
    )
    def get(self, request: Request) -> Response:
        query = TrendingQuerySerializer.from_query(request.query_params)
        query.is_valid(raise_exception=True)
        genre = query.validated_data.get("genre")
        items = popularity.trending_list(
            genre_id=genre.pk if genre is not None else None,
            n=query.validated_data.get("n", popularity.TRENDING_DEFAULT),
        )
        state = popularity.popularity_state()
        return Response(
            TrendingSerializer(
                {"genre": genre, "refreshed_at": state.refreshed_at, "results": items}
            ).data
        )


class SimilarTracksView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "id", integer_schema(1, ID_MAX), OpenApiParameter.PATH, description="track id"
            ),
            query_parameter(
                "n",
                integer_schema(1, similar.SIMILAR_MAX),
                f"How many tracks, 1 to {similar.SIMILAR_MAX} (default {similar.SIMILAR_DEFAULT}).",
            ),
        ],
        responses={200: SimilarSerializer, **error_responses(400, *READ_ERRORS, 404)},
        description="Tracks like this one, best first, the track itself never among them: "
        "neighbours by sound (audio features and genres) and by listening (tracks the same "
        "listeners play, once a model is trained), each with its sources' scores and reasons. "
        "For a signed-in listener, tracks they disliked and tracks of artists they blocked are "
        "left out. An unknown track is a 404. Public.",
    )
    def get(self, request: Request, pk: int) -> Response:
        query = SimilarQuerySerializer.from_query(request.query_params)
        query.is_valid(raise_exception=True)
        found = similar.similar_tracks(
            track_id=pk,
            n=query.validated_data.get("n", similar.SIMILAR_DEFAULT),
            user=request.user,
        )
        return Response(SimilarSerializer(found).data)


class StatsView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses={200: StatsSerializer, **error_responses(*READ_ERRORS)},
        description="Catalog and usage figures: the catalog's size, listeners, interactions, "
        "the active model's version and age, the trending figures' last refresh, the "
        "recommendation cache's hit rate. Staff also get the model's training figures "
        "(`model.training`), the blend's weights and the task queue's length. Computed at most "
        "once a minute. Public.",
    )
    def get(self, request: Request) -> Response:
        figures = stats.site_stats(staff=bool(request.user and request.user.is_staff))
        return Response(StatsSerializer(figures).data)
