"""Page URL patterns (imports); included by history/urls.py."""

urlpatterns: list = []
