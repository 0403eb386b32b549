"""Catalog pages: home, search, track, artist and genre. Thin: selectors do the reading; an
unknown track or artist (``ApplicationError``, 404) is the not-found page of
``musicrec.pages.ApplicationErrorMiddleware``."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from catalog import selectors
from catalog.models import Genre
from musicrec.errors import ApplicationError

PAGE_SIZE = 20


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", 1)))
    except ValueError:
        return 1


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "catalog/home.html",
        {
            "popular": selectors.track_list().order_by("-popularity", "id")[:12],
            "genres": selectors.genre_list(),
        },
    )


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    context: dict = {"query": query}
    try:
        ranked = selectors.track_search_ranked_ids(query=query)
    except ApplicationError as exc:
        context["hint"] = exc.message if "q" in request.GET else ""
        return render(request, "catalog/search.html", context, status=200)
    page = Paginator([track_id for track_id, _ in ranked], PAGE_SIZE).get_page(
        _page_number(request)
    )
    tracks = selectors.tracks_in_order(track_ids=list(page.object_list))
    # the result of this page that fits the signed-in listener best (the recommender answers
    # through registry.search_recommenders), highlighted above the results
    picked = selectors.search_recommendation(
        user=request.user, track_ids=[track.pk for track in tracks]
    )
    recommendation = None
    if picked is not None:
        track = next(track for track in tracks if track.pk == picked.track_id)
        recommendation = {"track": track, "reason": picked.reason}
    context.update(page=page, tracks=tracks, count=len(ranked), recommendation=recommendation)
    return render(request, "catalog/search.html", context)


def track_detail(request: HttpRequest, pk: int) -> HttpResponse:
    track = selectors.track_get(track_id=pk)
    features = [
        (label, getattr(track, name))
        for name, label in (
            ("danceability", "Danceability"),
            ("energy", "Energy"),
            ("valence", "Valence (positivity)"),
            ("acousticness", "Acousticness"),
            ("instrumentalness", "Instrumentalness"),
            ("speechiness", "Speechiness"),
            ("liveness", "Liveness"),
        )
    ]
    return render(request, "catalog/track_detail.html", {"track": track, "features": features})


def artist_detail(request: HttpRequest, pk: int) -> HttpResponse:
    artist = selectors.artist_get(artist_id=pk)
    page = Paginator(selectors.artist_tracks(artist=artist), PAGE_SIZE).get_page(
        _page_number(request)
    )
    return render(request, "catalog/artist_detail.html", {"artist": artist, "page": page})


def genre_detail(request: HttpRequest, slug: str) -> HttpResponse:
    genre = get_object_or_404(Genre, slug=slug)
    tracks = selectors.track_list().filter(genres=genre).order_by("-popularity", "id")
    page = Paginator(tracks, PAGE_SIZE).get_page(_page_number(request))
    return render(request, "catalog/genre_detail.html", {"genre": genre, "page": page})
