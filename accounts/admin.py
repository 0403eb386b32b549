"""Listeners in the admin: demographics, preferences and context for staff; never passwords.

Staff see and correct listener data; only superusers manage permissions. The password field is
not shown at all (not even its hash summary): setting one goes through Django's dedicated
password form, which only superusers can reach here.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from accounts.models import GenrePreference, User
from accounts.validators import AGE_BANDS


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
