"""API URLs of the playlists app (mounted under /api/v1/).

The playlists themselves, their tracks and order (``views``); generating one (``generate``);
importing and exporting (``transfer``)."""

from django.urls import path

from playlists.api import generate, transfer, views

urlpatterns: list = [
    path("playlists/", views.PlaylistListView.as_view(), name="playlist-list"),
    path(
        "playlists/<int:playlist_id>/", views.PlaylistDetailView.as_view(), name="playlist-detail"
    ),
    path(
        "playlists/<int:playlist_id>/tracks/",
        views.PlaylistTracksView.as_view(),
        name="playlist-tracks",
    ),
    path(
        "playlists/<int:playlist_id>/tracks/<int:track_id>/",
        views.PlaylistTrackView.as_view(),
        name="playlist-track",
    ),
    path(
        "playlists/<int:playlist_id>/reorder/",
        views.PlaylistReorderView.as_view(),
        name="playlist-reorder",
    ),
    path(
        "playlists/generate/",
        generate.PlaylistGenerateView.as_view(),
        name="playlist-generate",
    ),
    path("playlists/import/", transfer.PlaylistImportView.as_view(), name="playlist-import"),
    path(
        "playlists/<int:playlist_id>/export/",
        transfer.PlaylistExportView.as_view(),
        name="playlist-export",
    ),
]
