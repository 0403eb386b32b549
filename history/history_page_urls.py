"""Page URL patterns (history); included by history/urls.py (app_name "history")."""

from django.urls import path

from history import views

urlpatterns = [
    path("", views.history_page, name="page"),
    path("add/", views.history_entry_add, name="entry_add"),
    path("<int:entry_id>/remove/", views.history_entry_remove, name="entry_remove"),
    path("clear/", views.history_clear, name="clear"),
]
