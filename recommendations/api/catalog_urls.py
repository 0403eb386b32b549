"""Routes of the recommender's catalog-side endpoints (joined into ``/api/v1/`` by the project
URLconf: the catalog, a lower layer, never imports the recommender)."""

from django.urls import path

from recommendations.api import catalog_views as views

urlpatterns = [
    path(
        "recommendations/trending/", views.TrendingView.as_view(), name="recommendations-trending"
    ),
    path("tracks/<int:pk>/similar/", views.SimilarTracksView.as_view(), name="track-similar"),
    path("stats/", views.StatsView.as_view(), name="stats"),
]
