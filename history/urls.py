"""Page URLs of the history app (mounted at /history/)."""

from django.urls import path

from history import views

app_name = "history"

urlpatterns = [
    path("", views.history_page, name="page"),
    path("add/", views.history_entry_add, name="entry_add"),
    path("<int:entry_id>/remove/", views.history_entry_remove, name="entry_remove"),
    path("clear/", views.history_clear, name="clear"),
    path("imports/", views.imports_page, name="imports"),
    path("imports/upload/", views.import_upload, name="import_upload"),
    path("imports/<int:import_id>/offer/", views.import_offer_accept, name="import_offer_accept"),
    path("imports/<int:import_id>/undo/", views.import_undo, name="import_undo"),
]
