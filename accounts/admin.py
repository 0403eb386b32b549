from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


@admin.register(User)
class ListenerAdmin(UserAdmin):
    list_display = ("username", "email", "is_staff", "is_active", "date_joined")
    ordering = ("-date_joined",)
