"""Page URLs of the playlists app (mounted at /playlists/)."""

from django.urls import path

from playlists import views

app_name = "playlists"

urlpatterns = [
    path("", views.playlist_list_page, name="list"),
    path("new/", views.playlist_new, name="new"),
    path("add/", views.playlist_track_add, name="track_add"),
    path("generate/", views.playlist_generate_page, name="generate"),
    path("generate/pick/", views.track_pick, name="pick"),
    path("import/", views.playlist_import_page, name="import"),
    path("by/<str:username>/", views.playlists_by_owner, name="by_owner"),
    path("<int:playlist_id>/", views.playlist_detail, name="detail"),
    path("<int:playlist_id>/edit/", views.playlist_edit, name="edit"),
    path("<int:playlist_id>/delete/", views.playlist_delete, name="delete"),
    path("<int:playlist_id>/move/", views.playlist_track_move, name="move"),
    path("<int:playlist_id>/remove/", views.playlist_track_remove, name="remove"),
    path("<int:playlist_id>/export/<str:fmt>/", views.playlist_export_download, name="export"),
    path("<int:playlist_id>/imported/", views.playlist_import_report, name="import_report"),
]
