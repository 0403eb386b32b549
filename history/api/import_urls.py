"""URL patterns for the import API (see history/api/urls.py)."""

urlpatterns: list = []
