from django.urls import path  # noqa: F401

app_name = "accounts"

# Filled by the listeners pages: sign-up/in/out, password change/reset, onboarding, profile.
urlpatterns: list = []
