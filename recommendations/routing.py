"""WebSocket routes of the recommender (joined by ``musicrec.routing``)."""

from __future__ import annotations

from django.urls import path

from recommendations.consumers import RecommendationsConsumer

websocket_urlpatterns = [
    path("ws/recommendations/", RecommendationsConsumer.as_asgi()),
]
