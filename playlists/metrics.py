"""The playlists app's deployment figures for ``/metrics`` (registered in
``PlaylistsConfig.ready``)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Q
from prometheus_client.core import GaugeMetricFamily

from playlists.models import Origin, Playlist


def playlist_figures() -> Iterator[GaugeMetricFamily]:
    """Playlists by how they were made and by visibility: one grouped count over the table
    (a few thousand rows per thousand listeners; no per-row work)."""
    counts = (
        Playlist.objects.values_list("origin")
        .annotate(total=Count("id"), public=Count("id", filter=Q(is_public=True)))
        .order_by()
    )
    by_origin = {origin: (total, public) for origin, total, public in counts}
    playlists = GaugeMetricFamily(
        "musicrec_playlists",
        "Listeners' playlists, by how they were made and visibility.",
        labels=["origin", "visibility"],
    )
    for origin in Origin.values:
        total, public = by_origin.get(origin, (0, 0))
        playlists.add_metric([origin, "public"], public)
        playlists.add_metric([origin, "private"], total - public)
    yield playlists
    total = sum(t for t, _ in by_origin.values())
    public = sum(p for _, p in by_origin.values())
    yield GaugeMetricFamily(
        "musicrec_playlists_public_share",
        "The share of playlists that are public (0 when there is none).",
        value=public / total if total else 0.0,
    )
