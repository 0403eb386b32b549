"""Shared fixtures. Tests run against the real PostgreSQL and Redis that `make test` starts
(or the ones DATABASE_URL / REDIS_URL name), never mocks of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

BASE_DIR = Path(__file__).resolve().parent.parent
DEMO_CATALOG = BASE_DIR / "catalog" / "data" / "demo_catalog.csv.gz"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The demo catalog (3,236 real tracks) is loaded once and committed: search, API and
    browser tests read it; each test's own writes are rolled back around it."""
    with django_db_blocker.unblock():
        call_command("import_catalog", str(DEMO_CATALOG), "--no-progress", verbosity=0)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db, django_user_model):
    return django_user_model.objects.create_user("listener", "listener@example.com", "pw-Listen-42")


@pytest.fixture
def staff_user(db, django_user_model):
    return django_user_model.objects.create_user(
        "curator", "curator@example.com", "pw-Curate-42", is_staff=True, is_superuser=True
    )
