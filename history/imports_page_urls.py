"""Page URL patterns (imports); included by history/urls.py (app_name "history")."""

from django.urls import path

from history import import_views

urlpatterns = [
    path("imports/", import_views.imports_page, name="imports"),
    path("imports/upload/", import_views.import_upload, name="import_upload"),
    path(
        "imports/<int:import_id>/offer/",
        import_views.import_offer_accept,
        name="import_offer_accept",
    ),
    path("imports/<int:import_id>/undo/", import_views.import_undo, name="import_undo"),
]
