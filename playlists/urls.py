"""Page URLs of the playlists app (mounted at /playlists/)."""

from django.urls import path

app_name = "playlists"

urlpatterns: list = []

__all__ = ["path", "urlpatterns"]
