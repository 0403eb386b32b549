"""Listeners in the admin: demographics, preferences and context for staff; never passwords.

Staff with the "change user" permission see and correct listeners' data. Only superusers manage
permissions, change or delete staff and superuser accounts (a curator could otherwise take over
an administrator's account by setting its e-mail address or password), and set passwords: the
password field is not shown at all (not even its hash summary), and Django's dedicated password
form answers 403 to everyone else.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse

from accounts import services
from accounts.forms import AdminSignInForm
from accounts.models import GenrePreference, User
from accounts.validators import AGE_BANDS
from musicrec import realtime
from musicrec.throttling import refusal_status

# The admin's sign-in counts attempts like the site's (accounts.throttling).
admin.site.login_form = AdminSignInForm


def admin_sign_in(request: HttpRequest) -> HttpResponse:
    """``/admin/login/`` (musicrec/urls.py routes it here, ahead of the admin's own URLs): the
    admin's sign-in view, answering an attempt refused by the rate limit with 429 (503 when the
    limits cannot be checked) instead of 200."""
    response = admin.site.login(request)
    form = (getattr(response, "context_data", None) or {}).get("form")
    response.status_code = refusal_status(form) or response.status_code
    return response


class AgeBandFilter(admin.SimpleListFilter):
    title = "age band"
    parameter_name = "age_band"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [(label, label) for label, _, _ in AGE_BANDS] + [("unknown", "not given")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "unknown":
            return queryset.filter(age__isnull=True)
        for label, low, high in AGE_BANDS:
            if value == label:
                condition = Q(age__gte=low) & (Q() if high is None else Q(age__lte=high))
                return queryset.filter(condition)
        return queryset


class GenrePreferenceInline(admin.TabularInline):
    model = GenrePreference
    extra = 0
    autocomplete_fields = ["genre"]
    fields = ["genre", "kind", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(User)
class ListenerAdmin(UserAdmin):
    list_display = (
        "username",
        "email",
        "age",
        "gender",
        "country",
        "occupation",
        "is_staff",
        "is_active",
        "date_joined",
    )
    list_filter = (AgeBandFilter, "country", "gender", "occupation", "is_staff", "is_active")
    search_fields = ("username", "email")
    ordering = ("-date_joined",)
    inlines = [GenrePreferenceInline]
    readonly_fields = ("last_login", "date_joined", "context_updated_at", "onboarded_at")
    fieldsets = (
        (None, {"fields": ("username", "email", "is_active")}),
        ("Demographics", {"fields": ("age", "gender", "country", "occupation", "time_zone")}),
        ("Listening context", {"fields": ("mood", "activity", "context_updated_at")}),
        ("Dates", {"fields": ("date_joined", "last_login", "onboarded_at")}),
    )
    superuser_fieldsets = (
        ("Permissions", {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None):
        if obj is None:
            return super().get_fieldsets(request, obj)  # the add form: username + password
        if request.user.is_superuser:
            return self.fieldsets + self.superuser_fieldsets
        return self.fieldsets

    @staticmethod
    def _is_protected(request: HttpRequest, obj: User | None) -> bool:
        """Staff and superuser accounts are the superusers' to change."""
        return (
            obj is not None and (obj.is_staff or obj.is_superuser) and not request.user.is_superuser
        )

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Without it the change page of a staff account is read-only, and a POST to it a 403.
        return super().has_change_permission(request, obj) and not self._is_protected(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not self._is_protected(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        # The bulk "delete selected" action asks has_delete_permission without an object.
        if (
            not request.user.is_superuser
            and queryset.filter(Q(is_staff=True) | Q(is_superuser=True)).exists()
        ):
            raise PermissionDenied
        for user_id in queryset.values_list("pk", flat=True):
            realtime.disconnect_on_commit(user_id=user_id)
        super().delete_queryset(request, queryset)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.listener_deactivated(user=obj)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        realtime.disconnect_on_commit(user_id=obj.pk)
        super().delete_model(request, obj)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)
