"""API URLs of the recommender (mounted under /api/v1/)."""

from django.urls import path

from recommendations.api import views

urlpatterns = [
    path(
        "recommendations/",
        views.RecommendationListView.as_view(),
        name="recommendations",
    ),
]
