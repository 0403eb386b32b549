"""Serving a listener's list: the one path every surface takes (the API, the home page, a live
update over the WebSocket), so each served list is shaped alike and recorded as an impression.

``recommendation_list_serve`` computes the list (``selectors.serving.recommendations_for``),
turns it into its JSON-ready payload (the API's response body, the page's context, the live
message's ``results``) and records the :class:`~recommendations.models.Impression` whose id the
payload carries.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from accounts.models import User
from catalog.api.serializers import TrackSerializer
from recommendations.models import Impression, ImpressionSurface
from recommendations.selectors.serving import RecommendationList, recommendations_for


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


def recommendation_payload(result: RecommendationList) -> dict[str, Any]:
    """The JSON-ready body of a list (without its impression id)."""
    return {
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
    scores) and return the impression."""
    return Impression.objects.create(
        user=user,
        surface=surface,
        parameters=payload["parameters"],
        model_version_id=payload["model_version"],
        items=[
            {
                "track_id": result["track"]["id"],
                "position": result["position"],
                "score": result["score"],
                "confidence": result["confidence"],
                "sources": result["sources"],
            }
            for result in payload["results"]
        ],
    )


def recommendation_list_serve(
    *,
    user: User,
    n: int = 5,
    mood: str | None = None,
    activity: str | None = None,
    discovery: float | None = None,
    surface: ImpressionSurface = ImpressionSurface.API,
) -> ServedList:
    """Up to ``n`` recommendations for ``user`` (``mood``, ``activity``, ``discovery``
    override the stored ones for this list only; validated by the caller), recorded as an
    impression of ``surface``."""
    payload = recommendation_payload(
        recommendations_for(user=user, n=n, mood=mood, activity=activity, discovery=discovery)
    )
    impression = impression_record(user=user, payload=payload, surface=surface)
    return ServedList(
        impression_id=impression.pk, payload={"impression_id": str(impression.pk), **payload}
    )
