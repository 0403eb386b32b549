from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("auth/token/refresh/", views.TokenRefreshRotateView.as_view(), name="auth-token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/demographics/", views.DemographicsView.as_view(), name="me-demographics"),
    path("me/preferences/", views.PreferencesView.as_view(), name="me-preferences"),
    path("me/context/", views.ContextView.as_view(), name="me-context"),
    path("me/export/", views.ExportView.as_view(), name="me-export"),
    path("me/blocks/", views.BlockListView.as_view(), name="me-blocks"),
    path("me/blocks/<int:artist_id>/", views.BlockView.as_view(), name="me-block"),
]
