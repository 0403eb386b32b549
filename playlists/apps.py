from django.apps import AppConfig


class PlaylistsConfig(AppConfig):
    name = "playlists"
    verbose_name = "Playlists"

    def ready(self) -> None:
        # The lower layers (accounts' data export, musicrec's /metrics) show the playlists
        # through these registries; they never import this app. A deleted account's playlists
        # go with it: Playlist.owner cascades (tests/playlists/test_registrations.py).
        from musicrec import registry
        from playlists.metrics import playlist_figures
        from playlists.selectors.exports import listener_playlists_export

        registry.listener_export_parts.register("playlists", listener_playlists_export)
        registry.metrics_collectors.register("playlists", playlist_figures)
