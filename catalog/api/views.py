"""Catalog API: thin views over catalog.selectors."""

from __future__ import annotations

from django.db.models import Count
from drf_spectacular.types import OpenApiTypes
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
from catalog.models import FEATURE_RANGES, Genre
from musicrec.api.pagination import PageNumberPagination

TRACK_ORDERING = [
    "popularity",
    "title",
    "release_year",
    "duration_ms",
    *FEATURE_RANGES,
    "created_at",
    "id",
]


class TrackListView(generics.ListAPIView):
    """Browse the catalog: filter by genre, artist, year, explicit and audio-feature ranges."""

    permission_classes = [AllowAny]
    serializer_class = TrackSerializer
    filterset_class = TrackFilter
    ordering_fields = TRACK_ORDERING
    ordering = ["-popularity", "id"]

    def get_queryset(self):
        return selectors.track_list()


class TrackDetailView(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    serializer_class = TrackSerializer

    def get_object(self):
        return selectors.track_get(track_id=self.kwargs["pk"])


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter("name", OpenApiTypes.STR, description="part of the artist's name")
        ]
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

    @extend_schema(responses=ArtistDetailSerializer)
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
            OpenApiParameter("q", OpenApiTypes.STR, required=True, description="2–200 characters"),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses=SearchResponseSerializer,
    )
    def get(self, request: Request) -> Response:
        query = request.query_params.get("q", "")
        ranked = selectors.track_search_ranked_ids(query=query)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset([track_id for track_id, _ in ranked], request, view=self)
        tracks = selectors.tracks_in_order(track_ids=page or [])
        response = paginator.get_paginated_response(TrackSerializer(tracks, many=True).data)
        response.data = {
            "query": selectors.search_query_clean(query=query),
            **response.data,
            # Filled by the recommender (a recommendation drawn from these results).
            "recommendation": None,
        }
        return response
