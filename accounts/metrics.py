"""Accounts figures for ``/metrics`` (registered in ``AccountsConfig.ready``)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily

from accounts.models import User


def account_figures() -> Iterator[GaugeMetricFamily]:
    yield GaugeMetricFamily(
        "musicrec_listeners",
        "Active listener accounts.",
        value=User.objects.filter(is_active=True).count(),
    )
