"""Catalog and usage figures: ``GET /api/v1/stats/``.

Everyone sees the catalog's size, the listeners, the interactions (last 24 hours and in all),
the active model's version and age, the popularity views' last refresh and the recommendation
cache's hit rate; staff see more (the model's training figures, the blend's weight parameters,
the Celery queue's length). The figures are computed at most once a minute per audience and
kept in the cache (``STATS_CACHE_SECONDS``), so the endpoint costs a cache read under load;
with the cache (Redis) down they are computed on each request, never an error.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from catalog.models import Artist, Genre, Track
from history.models import Interaction
from recommendations.models import ModelStatus, ModelVersion
from recommendations.selectors.cache import cache_figures
from recommendations.selectors.popularity import popularity_state

logger = logging.getLogger(__name__)

#: How long the figures are kept (seconds): short enough to look live, long enough that a
#: burst of requests costs one computation.
STATS_CACHE_SECONDS = 60

#: Cache keys, one per audience (staff see more).
STATS_CACHE_KEY = "recommendations:stats:v1:{audience}"


def _cache_figures() -> dict[str, Any]:
    """The list cache's figures (``selectors.cache.cache_figures``: one Redis read): hits,
    misses, their sum, the hit rate (None before any request) and whether Redis answered."""
    figures = cache_figures()
    return {
        "hits": figures.hits,
        "misses": figures.misses,
        "requests": figures.requests,
        "hit_rate": figures.hit_rate,
        "available": figures.available,
    }


def _age_seconds(moment: dt.datetime | None, now: dt.datetime) -> float | None:
    return None if moment is None else max((now - moment).total_seconds(), 0.0)


def _model(now: dt.datetime, *, staff: bool) -> dict[str, Any] | None:
    version = (
        ModelVersion.objects.filter(status=ModelStatus.ACTIVE)
        .defer("artifact", "parameters", "figures", "error")
        .first()
    )
    if version is None:
        return None
    trained_at = version.finished_at or version.created_at
    figures: dict[str, Any] = {
        "version": version.pk,
        "trained_at": trained_at,
        "activated_at": version.activated_at,
        "age_seconds": _age_seconds(trained_at, now),
    }
    if staff:
        full = ModelVersion.objects.only("parameters", "figures").get(pk=version.pk)
        figures["training"] = {
            "snapshot_at": version.snapshot_at,
            "training_seconds": version.training_seconds,
            "listeners": version.listeners,
            "tracks": version.tracks,
            "cells": version.cells,
            "parameters": full.parameters,
            "figures": full.figures,
        }
    return figures


def _popularity(now: dt.datetime) -> dict[str, Any] | None:
    try:
        state = popularity_state()
    except RuntimeError:  # the refresh row is missing (migrations not run): nothing to say
        return None
    return {
        "refreshed_at": state.refreshed_at,
        "age_seconds": _age_seconds(state.refreshed_at, now),
        "seconds": state.seconds,
        "trending_tracks": state.popular_tracks_rows,
    }


def _queue_length() -> int | None:
    """Tasks waiting in the default Celery queue (one LLEN on the broker's Redis, with short
    timeouts); None when the broker is not Redis or does not answer."""
    url = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            queue = str(getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery"))
            return int(client.llen(queue))
        finally:
            client.close()
    except Exception:
        logger.warning("stats: the broker did not answer", exc_info=True)
        return None


def site_stats_compute(*, staff: bool = False, now: dt.datetime | None = None) -> dict[str, Any]:
    """The figures, computed now (see the module docstring; :func:`site_stats` caches them).
    Seven queries for everyone, two more and a broker call for staff."""
    now = now or timezone.now()
    listeners = User.objects.aggregate(
        total=Count("pk", filter=Q(is_active=True, is_staff=False)),
        active_24h=Count(
            "pk",
            filter=Q(is_active=True, is_staff=False, last_login__gte=now - dt.timedelta(hours=24)),
        ),
    )
    figures: dict[str, Any] = {
        "generated_at": now,
        "catalog": {
            "tracks": Track.objects.count(),
            "artists": Artist.objects.count(),
            "genres": Genre.objects.count(),
        },
        "listeners": {"total": listeners["total"], "signed_in_24h": listeners["active_24h"]},
        "interactions": Interaction.objects.aggregate(
            total=Count("pk"),
            last_24h=Count("pk", filter=Q(occurred_at__gte=now - dt.timedelta(hours=24))),
        ),
        "model": _model(now, staff=staff),
        "popularity": _popularity(now),
        "cache": _cache_figures(),
    }
    if staff:
        figures["weights"] = dict(settings.RECOMMENDER.get("ensemble", {}).get("weights", {}))
        figures["queue"] = {"celery": _queue_length()}
    return figures


def site_stats(*, staff: bool = False) -> dict[str, Any]:
    """The figures for everyone or for staff, from the cache when computed less than
    :data:`STATS_CACHE_SECONDS` ago. The cache is django-redis with exceptions ignored: with
    Redis down a read misses and a write is dropped, so the figures are computed each time."""
    key = STATS_CACHE_KEY.format(audience="staff" if staff else "public")
    cached = cache.get(key)
    if cached is not None:
        return dict(cached)
    figures = site_stats_compute(staff=staff)
    cache.set(key, figures, STATS_CACHE_SECONDS)
    return figures
