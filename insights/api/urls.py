"""API URLs of the insights app (under /api/v1/)."""

from django.urls import path

from insights.api import views

urlpatterns = [
    path("me/insights/", views.MyInsightsView.as_view(), name="me-insights"),
]
