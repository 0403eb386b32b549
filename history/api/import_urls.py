"""URL patterns for the import API (see history/api/urls.py)."""

from django.urls import path

from history.api.import_views import (
    ListenImportDetailView,
    ListenImportListView,
    ListenImportOfferView,
)

urlpatterns = [
    path("imports/", ListenImportListView.as_view(), name="listen-import-list"),
    path("imports/<int:import_id>/", ListenImportDetailView.as_view(), name="listen-import-detail"),
    path(
        "imports/<int:import_id>/offer/",
        ListenImportOfferView.as_view(),
        name="listen-import-offer",
    ),
]
