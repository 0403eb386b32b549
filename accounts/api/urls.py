from django.urls import path  # noqa: F401

# Filled by the listeners API: auth, me, demographics, preferences, context, export.
urlpatterns: list = []
