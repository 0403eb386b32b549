"""The history app's deployment figures for ``/metrics`` (registered in ``HistoryConfig.ready``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from history.models import HistoryEntry, Interaction, ListenImport


def history_figures() -> Iterator[GaugeMetricFamily]:
    """History entries (a whole-table count), interaction events of the last hour by kind (the
    ``recorded_at`` index) and listening imports by status."""
    yield GaugeMetricFamily(
        "musicrec_history_entries",
        "Entries in all listening histories.",
        value=HistoryEntry.objects.count(),
    )
    since = timezone.now() - timedelta(hours=1)
    recent = dict(
        Interaction.objects.filter(recorded_at__gte=since)
        .values_list("kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    events = GaugeMetricFamily(
        "musicrec_interactions_last_hour",
        "Interaction events recorded in the last hour, by kind.",
        labels=["kind"],
    )
    for kind in Interaction.Kind.values:
        events.add_metric([kind], recent.get(kind, 0))
    yield events
    imports = dict(ListenImport.objects.values_list("status").annotate(n=Count("id")).order_by())
    by_status = GaugeMetricFamily(
        "musicrec_listen_imports", "Listening-data imports by status.", labels=["status"]
    )
    for status in ListenImport.Status.values:
        by_status.add_metric([status], imports.get(status, 0))
    yield by_status
