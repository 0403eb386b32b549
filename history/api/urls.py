"""API URLs of the history app (mounted under /api/v1/)."""

from django.urls import path

from history.api import views

urlpatterns = [
    path("history/", views.HistoryView.as_view(), name="history"),
    path("history/<int:entry_id>/", views.HistoryEntryView.as_view(), name="history-entry"),
    path("interactions/", views.InteractionListView.as_view(), name="interactions"),
    path("imports/", views.ListenImportListView.as_view(), name="listen-import-list"),
    path(
        "imports/<int:import_id>/",
        views.ListenImportDetailView.as_view(),
        name="listen-import-detail",
    ),
    path(
        "imports/<int:import_id>/offer/",
        views.ListenImportOfferView.as_view(),
        name="listen-import-offer",
    ),
]
