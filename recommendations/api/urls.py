"""API URLs of the recommender (mounted under /api/v1/)."""

from django.urls import path

from recommendations.api import experiments, views

urlpatterns = [
    path(
        "recommendations/",
        views.RecommendationListView.as_view(),
        name="recommendations",
    ),
    path(
        "experiments/<int:pk>/report/",
        experiments.ExperimentReportView.as_view(),
        name="experiment-report",
    ),
]
