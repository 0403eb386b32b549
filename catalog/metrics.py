"""The catalog's deployment figures for ``/metrics`` (registered in ``CatalogConfig.ready``)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily

from catalog.models import Track


def catalog_figures() -> Iterator[GaugeMetricFamily]:
    yield GaugeMetricFamily(
        "musicrec_catalog_tracks", "Tracks in the catalog.", value=Track.objects.count()
    )
