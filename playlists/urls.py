"""Page URLs of the playlists app (mounted at /playlists/)."""

app_name = "playlists"

urlpatterns: list = []
