"""Serving a listener's list: the one path every surface takes (the API, the home page, a live
update over the WebSocket), so each served list is shaped alike and recorded as an impression.

``recommendation_list_serve`` takes the list's JSON-ready payload (the API's response body, the
page's context, the live message's ``results``) from the cache, or computes it
(``selectors.serving.recommendations_for``) and caches it (``services.cache``: per listener and
request, fresh after any change of the listener's taste, a training or a view refresh), then
records the :class:`~recommendations.models.Impression` whose id the payload carries: every
serve, hit or miss, is one INSERT.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from catalog.api.serializers import TrackSerializer
from recommendations.models import Impression, ImpressionSurface
from recommendations.selectors.cache import recently_active_listener_ids
from recommendations.selectors.experiments import Assignment, experiment_assignment
from recommendations.selectors.serving import (
    RecommendationList,
    recommendations_for,
    recommendations_interleaved_for,
)
from recommendations.services.cache import cache_settings, list_cached

logger = logging.getLogger(__name__)

#: A list's length when the request names none (the API's default).
DEFAULT_N = 5


@dataclass(frozen=True)
class ServedList:
    """A served list: its ``impression_id`` and its JSON-ready ``payload``::

    {"impression_id": "…", "model_version": 3 | null, "generated_at": "…",
     "parameters": {"n", "mood", "activity", "discovery"}, "weights": {source: weight},
     "results": [{"position", "track": {…TrackSerializer…}, "score", "confidence",
                  "sources": {source: score}, "reasons": [{"kind", "source", "text"}]}]}
    """

    impression_id: uuid.UUID
    payload: dict[str, Any]


#: The payload's key of its experiment (cached with it, recorded on the impression, never sent):
#: ``{"id": experiment id, "variant": key or "interleaved", "teams": [key per result] | None}``.
EXPERIMENT_KEY = "_experiment"


def recommendation_payload(
    result: RecommendationList, assignment: Assignment | None = None
) -> dict[str, Any]:
    """The JSON-ready body of a list (without its impression id); with the listener's
    experiment under :data:`EXPERIMENT_KEY` when they are in one."""
    experiment: dict[str, Any] | None = None
    if assignment is not None:
        keys = [team.key for team in assignment.teams] if assignment.teams else None
        experiment = {
            "id": assignment.experiment.id,
            "variant": assignment.variant,
            "teams": None
            if keys is None
            else [keys[item.team] for item in result.items if item.team is not None],
        }
    return {
        EXPERIMENT_KEY: experiment,
        "model_version": result.model_version_id,
        "generated_at": timezone.now().isoformat(),
        "parameters": dict(result.parameters),
        "weights": dict(result.weights),
        "results": [
            {
                "position": item.position,
                "track": TrackSerializer(item.track).data,
                "score": item.score,
                "confidence": item.confidence,
                "sources": dict(item.sources),
                "reasons": list(item.reasons),
            }
            for item in result.items
        ],
    }


def impression_record(
    *, user: User, payload: dict[str, Any], surface: ImpressionSurface
) -> Impression:
    """Record a served list (its parameters, model version, the ranked tracks with their
    scores, its experiment and variant, and in an interleaved list each track's team) and
    return the impression."""
    experiment = payload.get(EXPERIMENT_KEY)
    teams = (experiment or {}).get("teams")
    items = [
        {
            "track_id": result["track"]["id"],
            "position": result["position"],
            "score": result["score"],
            "confidence": result["confidence"],
            "sources": result["sources"],
        }
        for result in payload["results"]
    ]
    if teams:
        for item, team in zip(items, teams, strict=True):
            item["team"] = team
    return Impression.objects.create(
        user=user,
        surface=surface,
        parameters=payload["parameters"],
        model_version_id=payload["model_version"],
        items=items,
        experiment_id=experiment["id"] if experiment else None,
        variant=experiment["variant"] if experiment else "",
    )


def recommendation_list_payload(
    *,
    user: User,
    n: int = 5,
    mood: str | None = None,
    activity: str | None = None,
    discovery: float | None = None,
) -> tuple[dict[str, Any], bool]:
    """The payload of this list without an impression id, from the cache or computed and
    cached; and whether it came from the cache. Records nothing (the precomputation after a
    training fills the cache with it).

    The listener's experiment (``selectors.experiments.experiment_assignment``: one cache read,
    no query) decides how it is computed: a split test's variant parameters, or two variants'
    lists interleaved; the cache key names it, so an enrolment that changes is a fresh list."""
    assignment = experiment_assignment(user_id=user.pk)

    def compute() -> dict[str, Any]:
        if assignment is not None and assignment.teams is not None:
            result = recommendations_interleaved_for(
                user=user,
                n=n,
                mood=mood,
                activity=activity,
                discovery=discovery,
                teams=(assignment.teams[0].parameters, assignment.teams[1].parameters),
                seed=f"{assignment.experiment.salt}:{user.pk}",
            )
        elif assignment is not None:
            result = recommendations_for(
                user=user,
                n=n,
                mood=mood,
                activity=activity,
                discovery=discovery,
                variant=assignment.parameters,
            )
        else:
            result = recommendations_for(
                user=user, n=n, mood=mood, activity=activity, discovery=discovery
            )
        return recommendation_payload(result, assignment)

    return list_cached(
        user_id=user.pk,
        n=n,
        mood=mood,
        activity=activity,
        discovery=discovery,
        experiment="" if assignment is None else assignment.cache_part,
        compute=compute,
    )


def recommendation_list_serve(
    *,
    user: User,
    n: int = 5,
    mood: str | None = None,
    activity: str | None = None,
    discovery: float | None = None,
    surface: ImpressionSurface = ImpressionSurface.API,
    shown: uuid.UUID | None = None,
) -> ServedList:
    """Up to ``n`` recommendations for ``user`` (``mood``, ``activity``, ``discovery``
    override the stored ones for this list only, ``""`` clears mood or activity; validated by
    the caller), from the cache or computed, recorded as an impression of ``surface``.

    ``shown``: the impression of a list this listener was already sent (a live update the
    home page now displays). When the list served now is that one (the same tracks in the same
    order), it is served under that impression and nothing new is recorded: one list the
    listener saw is one impression, whatever the number of surfaces it reached them through.
    Another listener's impression, or a list that changed since, is served and recorded anew."""
    payload, _hit = recommendation_list_payload(
        user=user, n=n, mood=mood, activity=activity, discovery=discovery
    )
    public = {key: value for key, value in payload.items() if key != EXPERIMENT_KEY}
    if shown is not None and _same_list(user=user, impression_id=shown, payload=payload):
        return ServedList(impression_id=shown, payload={"impression_id": str(shown), **public})
    impression = impression_record(user=user, payload=payload, surface=surface)
    return ServedList(
        impression_id=impression.pk, payload={"impression_id": str(impression.pk), **public}
    )


def _same_list(*, user: User, impression_id: uuid.UUID, payload: dict[str, Any]) -> bool:
    """Whether ``user``'s impression ``impression_id`` recorded exactly the list of
    ``payload``: its tracks in order, and its experiment, variant and (interleaved) teams: the
    same tracks served under another enrolment are another impression, or the report would
    miss them. One primary-key read."""
    row = (
        Impression.objects.filter(pk=impression_id, user=user)
        .values_list("items", "experiment_id", "variant")
        .first()
    )
    if row is None:
        return False
    items, experiment_id, variant = row
    experiment = payload.get(EXPERIMENT_KEY) or {}
    if (experiment_id, variant) != (experiment.get("id"), experiment.get("variant", "")):
        return False
    ordered = sorted(items, key=lambda item: item["position"])
    recorded = [item["track_id"] for item in ordered]
    if recorded != [result["track"]["id"] for result in payload["results"]]:
        return False
    teams = experiment.get("teams")
    return not teams or [item.get("team") for item in ordered] == list(teams)


@dataclass(frozen=True)
class PrecomputeOutcome:
    listeners: int  # recently active listeners found (at most the setting's maximum)
    computed: int  # lists computed and cached
    cached: int  # already in the cache
    failed: int  # listeners whose list could not be computed (logged)
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "listeners": self.listeners,
            "computed": self.computed,
            "cached": self.cached,
            "failed": self.failed,
            "seconds": round(self.seconds, 1),
        }


def precompute_sizes() -> list[int]:
    """The list lengths precomputed after a training: the API's default and the home page's."""
    pages = settings.RECOMMENDER.get("pages", {})
    return sorted({DEFAULT_N, int(pages.get("home_results", DEFAULT_N))})


def recommendation_lists_precompute(
    *, days: int | None = None, limit: int | None = None
) -> PrecomputeOutcome:
    """Cache the default lists (the API's n=5 and the home page's n, the stored context and
    discovery) of every listener active
    in the last ``days`` days, most recent first, at most ``limit``
    (``RECOMMENDER["cache"]``: ``precompute_active_days``, ``precompute_max_listeners``), so that
    their next request after a training is a hit. Records no impression (nothing is served).

    Cost: one list computation per listener (~20–80 ms on the full catalog), plus building the
    serving state once in this process; progress is logged every 10 % (and at the end). A
    listener whose list fails is logged and skipped."""
    options = cache_settings()
    days = options["precompute_active_days"] if days is None else days
    limit = options["precompute_max_listeners"] if limit is None else limit
    started = time.perf_counter()
    user_ids = recently_active_listener_ids(days=days, limit=limit)
    computed = cached = failed = 0
    step = max(len(user_ids) // 10, 1)
    for done, user_id in enumerate(user_ids, start=1):
        user = User.objects.filter(pk=user_id).first()
        if user is None:  # deleted since
            continue
        try:
            # the API's default list and the home page's (``RECOMMENDER["pages"]``)
            hits = [
                recommendation_list_payload(user=user, n=size)[1] for size in precompute_sizes()
            ]
            hit = all(hits)
        except Exception:
            failed += 1
            logger.exception("precomputing the list of listener %s failed", user_id)
        else:
            cached += int(hit)
            computed += int(not hit)
        if done % step == 0 or done == len(user_ids):
            logger.info(
                "precomputed lists: %d/%d listeners (%d computed, %d already cached, %d failed)",
                done,
                len(user_ids),
                computed,
                cached,
                failed,
            )
    return PrecomputeOutcome(
        listeners=len(user_ids),
        computed=computed,
        cached=cached,
        failed=failed,
        seconds=time.perf_counter() - started,
    )
