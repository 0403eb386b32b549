"""API URLs of the playlists app (mounted under /api/v1/).

The playlists themselves, their tracks and order (``views``); generating one (``generate``);
importing and exporting (``transfer``)."""

from django.urls import path

from playlists.api import generate

urlpatterns: list = [
    # GET/POST playlists/ · GET/PATCH/DELETE playlists/<id>/ · POST playlists/<id>/tracks/ ·
    # DELETE playlists/<id>/tracks/<track_id>/ · POST playlists/<id>/reorder/   (views)
    # POST playlists/generate/                                                  (generate)
    path(
        "playlists/generate/",
        generate.PlaylistGenerateView.as_view(),
        name="playlist-generate",
    ),
    # POST playlists/import/ · GET playlists/<id>/export/                        (transfer)
]
