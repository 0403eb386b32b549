"""Database sessions that know their listener.

Django's database sessions store the user id only inside the encoded data, so "sign out this
listener's other sessions" or "delete everything of this listener" would mean decoding every
session. This store keeps the user in a column (the pattern Django's documentation gives for
extending the database backend), so deleting a listener cascades to their sessions and a
password change can end the others with one query.
"""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class ListenerSession(AbstractBaseSession):
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        db_table = "accounts_session"

    @classmethod
    def get_session_store_class(cls):
        return SessionStore


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls):
        return ListenerSession

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        try:
            instance.user_id = int(data.get("_auth_user_id"))
        except (TypeError, ValueError):
            instance.user_id = None
        return instance
