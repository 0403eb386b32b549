"""URL patterns for the history API (see history/api/urls.py)."""

urlpatterns: list = []
