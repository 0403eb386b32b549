"""URL patterns for the interaction API (see history/api/urls.py)."""

from django.urls import path

from history.api import interaction_views

urlpatterns = [
    path("interactions/", interaction_views.InteractionListView.as_view(), name="interactions"),
]
