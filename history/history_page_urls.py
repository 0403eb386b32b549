"""Page URL patterns (history); included by history/urls.py."""

urlpatterns: list = []
