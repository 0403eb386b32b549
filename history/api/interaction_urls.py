"""URL patterns for the interaction API (see history/api/urls.py)."""

urlpatterns: list = []
