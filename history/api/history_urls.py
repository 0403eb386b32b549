"""URL patterns for the history API (see history/api/urls.py)."""

from django.urls import path

from history.api.history_views import HistoryEntryView, HistoryView

urlpatterns = [
    path("history/", HistoryView.as_view(), name="history"),
    path("history/<int:entry_id>/", HistoryEntryView.as_view(), name="history-entry"),
]
