"""bootstrap_demo: what `make run` does on first start, safe to repeat."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from catalog.models import Track

pytestmark = pytest.mark.django_db


def test_bootstrap_creates_one_curator_and_keeps_the_catalog(settings, tmp_path):
    settings.BASE_DIR = tmp_path  # the password file goes under tmp_path/var/
    tracks = Track.objects.count()
    first, second = io.StringIO(), io.StringIO()

    call_command("bootstrap_demo", stdout=first)
    call_command("bootstrap_demo", stdout=second)

    admins = get_user_model().objects.filter(is_superuser=True)
    password = (tmp_path / "var" / "demo-admin-password.txt").read_text().strip()
    assert admins.count() == 1
    assert admins.get().check_password(password)
    assert f"password {password!r}" in first.getvalue()
    assert f"password {password!r}" in second.getvalue()
    assert Track.objects.count() == tracks  # the catalog was not empty: nothing re-imported
