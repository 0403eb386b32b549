"""Catalog API: thin views over catalog.selectors."""

from __future__ import annotations

from django.db.models import Count
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors
from catalog.api.filters import TrackFilter
from catalog.api.serializers import (
    ArtistDetailSerializer,
    ArtistSerializer,
    GenreSerializer,
    SearchResponseSerializer,
    TrackSerializer,
)
from catalog.models import FEATURE_RANGES, ID_MAX, Genre
from catalog.selectors import SEARCH_MAX_LENGTH, SEARCH_MIN_LENGTH
from musicrec.api.pagination import PageNumberPagination
from musicrec.api.schema import PAGE_PARAMETERS, error_responses
from musicrec.api.schema_params import (
    PYTHON_WHITESPACE,
    filterset_parameters,
    integer_schema,
    query_parameter,
    text_schema,
    text_with_pattern,
)
from musicrec.errors import ApplicationError

TRACK_ORDERING = [
    "popularity",
    "title",
    "release_year",
    "duration_ms",
    *FEATURE_RANGES,
    "created_at",
    "id",
]


def object_id(description: str) -> OpenApiParameter:
    return OpenApiParameter(
        "id", integer_schema(1, ID_MAX), OpenApiParameter.PATH, description=description
    )


# Every catalog read: public, but a request with a token that is not valid is a 401 (the token
# is checked whenever one is sent), and every caller has a rate limit.
READ_ERRORS = (401, 429)


@extend_schema_view(
    get=extend_schema(
        parameters=filterset_parameters(TrackFilter),
        responses={
            200: TrackSerializer(many=True),  # in the page envelope of the pagination class
            **error_responses(400, *READ_ERRORS, 404),
        },
        description="Browse the catalog: filter by genre, artist, album, year, explicit and "
        "audio-feature ranges (`<feature>_min` / `<feature>_max`), sorted by `ordering`. "
        "A genre that does not exist, or a page past the last, is a 404.",
    )
)
class TrackListView(generics.ListAPIView):
    """Browse the catalog: filter by genre, artist, album, year, explicit and audio-feature
    ranges, sorted by ``ordering``."""

    permission_classes = [AllowAny]
    serializer_class = TrackSerializer
    filterset_class = TrackFilter
    ordering_fields = TRACK_ORDERING
    ordering = ["-popularity", "id"]

    def get_queryset(self):
        return selectors.track_list()


@extend_schema_view(
    get=extend_schema(
        parameters=[object_id("track id")],
        responses={200: TrackSerializer, **error_responses(*READ_ERRORS, 404)},
    )
)
class TrackDetailView(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    serializer_class = TrackSerializer

    def get_object(self):
        return selectors.track_get(track_id=self.kwargs["pk"])


@extend_schema_view(
    get=extend_schema(
        parameters=[
            query_parameter(
                "name", text_schema(), "part of the artist's name, in any case (blank: all)"
            )
        ],
        responses={
            200: ArtistSerializer(many=True),
            **error_responses(400, *READ_ERRORS, 404),
        },
    )
)
class ArtistListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = ArtistSerializer
    ordering_fields = ["name", "track_count", "id"]
    ordering = ["name", "id"]

    def get_queryset(self):
        queryset = selectors.artist_list()
        name = self.request.query_params.get("name", "").strip()
        return queryset.filter(name__icontains=name) if name else queryset


class ArtistDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[object_id("artist id")],
        responses={200: ArtistDetailSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        artist = selectors.artist_get(artist_id=pk)
        context = {
            "request": request,
            "top_tracks": selectors.artist_tracks(artist=artist)[:10],
            "genres": Genre.objects.filter(tracks__track_artists__artist=artist)
            .annotate(n=Count("tracks"))
            .order_by("-n", "name")[:10],
        }
        return Response(ArtistDetailSerializer(artist, context=context).data)


@extend_schema_view(
    get=extend_schema(responses={200: GenreSerializer(many=True), **error_responses(*READ_ERRORS)})
)
class GenreListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = GenreSerializer
    pagination_class = None  # about a hundred genres: one list
    filter_backends: list = []

    def get_queryset(self):
        return selectors.genre_list()


class SearchView(APIView):
    """Typo-tolerant, ranked search over titles, artists, albums and genres."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            query_parameter(
                "q",
                {
                    "type": "string",
                    "pattern": text_with_pattern(
                        at_least=SEARCH_MIN_LENGTH, outside=PYTHON_WHITESPACE
                    ),
                    "minLength": SEARCH_MIN_LENGTH,
                    "maxLength": SEARCH_MAX_LENGTH,
                },
                f"What to look for: at most {SEARCH_MAX_LENGTH} characters, at least "
                f"{SEARCH_MIN_LENGTH} of them not spaces (runs of spaces count as one).",
                required=True,
            ),
            *PAGE_PARAMETERS,
        ],
        responses={
            200: SearchResponseSerializer,
            **error_responses(400, *READ_ERRORS, 404),
        },
        description="Typo-tolerant, ranked search over titles, artists, albums and genres. A "
        "page past the last is a 404. For a signed-in listener, `recommendation` is the result "
        "of the page that fits their taste best, with its `reason`.",
    )
    def get(self, request: Request) -> Response:
        query = request.query_params.get("q", "")
        if len(query) > SEARCH_MAX_LENGTH:  # as typed: the schema's maxLength
            raise ApplicationError(
                f"A search is at most {SEARCH_MAX_LENGTH} characters.",
                code="query_too_long",
                extra={"max_length": SEARCH_MAX_LENGTH},
            )
        ranked = selectors.track_search_ranked_ids(query=query)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset([track_id for track_id, _ in ranked], request, view=self)
        tracks = selectors.tracks_in_order(track_ids=page or [])
        response = paginator.get_paginated_response(TrackSerializer(tracks, many=True).data)
        picked = selectors.search_recommendation(
            user=request.user, track_ids=[track.pk for track in tracks]
        )
        recommendation = None
        if picked is not None:  # one of this page's tracks (the selector checks)
            track = next(track for track in tracks if track.pk == picked.track_id)
            recommendation = {**TrackSerializer(track).data, "reason": picked.reason}
        response.data = {
            "query": selectors.search_query_clean(query=query),
            **response.data,
            "recommendation": recommendation,
        }
        return response
