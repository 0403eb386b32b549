from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("onboarding/", views.onboarding_about, name="onboarding"),
    path("onboarding/genres/", views.onboarding_genres, name="onboarding_genres"),
    path("profile/", views.profile, name="profile"),
    path("profile/about/", views.profile_demographics, name="profile_demographics"),
    path("profile/context/", views.profile_context, name="profile_context"),
    path("profile/genres/", views.profile_preferences, name="profile_preferences"),
    path("profile/export/", views.profile_export, name="profile_export"),
    path("delete/", views.account_delete, name="delete"),
]
