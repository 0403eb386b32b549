"""Celery tasks of the recommender: thin wrappers around services (registered by name, see
``musicrec.queue``)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from musicrec.queue import RETRY_POLICY
from recommendations.services.embeddings import track_embeddings_refresh
from recommendations.services.impressions import impressions_prune
from recommendations.services.lists import recommendation_lists_precompute
from recommendations.services.live import REASON_TRAINING, live_update_push, live_updates_push
from recommendations.services.live import live_fan_out as live_fan_out_service
from recommendations.services.popularity import refresh_popularity as popularity_views_refresh
from recommendations.services.training import train_embeddings as train_embeddings_service

# --------------------------------------------------------------------------- training (train)


@shared_task(name="recommendations.train_embeddings", **RETRY_POLICY)
def train_embeddings() -> dict[str, Any]:
    """Train the collaborative models on a snapshot and swap them in
    (``recommendations.services.training.train_embeddings``).

    Scheduled nightly (``CELERY_BEAT_SCHEDULE``) and enqueued by the admin's "train now". Cost
    on this 2-core machine: seconds on the demo data, 86–96 s on the full 90k-track
    catalog with 2,000 listeners (docs/recommendations.md "Measured"). A run while another
    holds the training lock is skipped and not retried (the running one is doing the work); a
    failure is retried with the project's backoff, each attempt a new version (the failed one
    stays in the admin)."""
    outcome = train_embeddings_service()
    if outcome.skipped:
        return {"skipped": True}
    return {
        "skipped": False,
        "version": outcome.version_id,
        "listeners": outcome.listeners,
        "tracks": outcome.tracks,
        "seconds": round(outcome.total_seconds, 1),
    }


# --------------------------------------------------------------------------- embeddings (content)


@shared_task(name="recommendations.embed_tracks", **RETRY_POLICY)
def embed_tracks(track_ids: list[int] | None = None) -> str:
    """Recompute the content vectors (and fold in the collaborative vectors of tracks newer
    than the active model) of these tracks, or of every track (daily, and after a large
    import). Safe to run twice; two whole-catalog runs never overlap (the second is skipped).
    In batches of 5,000 tracks (one short transaction each)."""
    return track_embeddings_refresh(track_ids=track_ids).describe()


# --------------------------------------------------------------------------- popularity (views)


@shared_task(name="recommendations.refresh_popularity", **RETRY_POLICY)
def refresh_popularity() -> dict[str, object]:
    """Refresh the ``popular_tracks`` and ``demographic_popularity`` views (CONCURRENTLY: readers
    are never blocked) and bump the popularity generation; return the summary.

    Scheduled every ``RECOMMENDER["popularity_refresh_minutes"]`` (CELERY_BEAT_SCHEDULE). Cost:
    see docs/recommendations.md (seconds at 100k tracks and 1M interactions). Safe to run twice;
    a run that finds another one in progress is skipped at once (advisory lock), never queued
    behind it.
    """
    return popularity_views_refresh().as_dict()


# --------------------------------------------------------------------------- served lists (api)


@shared_task(name="recommendations.precompute_lists", **RETRY_POLICY)
def precompute_lists() -> dict[str, Any]:
    """Cache the default lists of recently active listeners, so that their first request
    after a training is a hit (``services.lists.recommendation_lists_precompute``). Enqueued
    when a training succeeds. Cost: one list per listener (~20–80 ms each on the full catalog),
    at most ``RECOMMENDER["cache"]["precompute_max_listeners"]``; a second run finds them
    cached."""
    return recommendation_lists_precompute().as_dict()


@shared_task(name="recommendations.prune_impressions", **RETRY_POLICY)
def prune_impressions() -> int:
    """Delete served lists older than ``RECOMMENDER["impressions"]["retention_days"]``, in
    batches of 5,000 (daily, CELERY_BEAT_SCHEDULE); return how many."""
    return impressions_prune()


# --------------------------------------------------------------------------- live updates (live)


@shared_task(name="recommendations.push_update", **RETRY_POLICY)
def push_update(
    user_id: int,
    reason: str,
    parameters: dict[str, Any] | None = None,
    reply_channel: str | None = None,
) -> bool:
    """Compute the listener's list and send it to their open connections as a
    ``recommendations.update`` (or to ``reply_channel`` only: a connection's refresh);
    nothing when no connection is open (``recommendations.services.live``). Enqueued by the
    ``taste_changed`` hook and by a client's refresh; one list, tens of ms."""
    return live_update_push(
        user_id=user_id, reason=reason, parameters=parameters, reply_channel=reply_channel
    )


@shared_task(name="recommendations.push_update_batch", **RETRY_POLICY)
def push_update_batch(user_ids: list[int], reason: str) -> int:
    """:func:`push_update` for a batch of listeners (``RECOMMENDER["live"]["fan_out_batch"]``
    of them, enqueued by ``live_fan_out``); how many were sent. A listener whose list fails is
    logged and skipped, so a retry never sends the others theirs twice."""
    return live_updates_push(user_ids=user_ids, reason=reason)


@shared_task(name="recommendations.live_fan_out", **RETRY_POLICY)
def live_fan_out(reason: str = REASON_TRAINING) -> int:
    """Push a new list to every connected listener, in batches (enqueued when a training
    finished); how many listeners. Reads the presence set incrementally: cheap even with
    thousands of connections; the lists are computed by the batches."""
    return live_fan_out_service(reason=reason)
