"""Shared fixtures. Tests run against the real PostgreSQL and Redis that `make test` starts
(or the ones DATABASE_URL / REDIS_URL name), never mocks of them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from musicrec import embedded
from tests.accounts.factories import StaffFactory, SuperuserFactory, UserFactory
from tests.services import run_instance

BASE_DIR = Path(__file__).resolve().parent.parent
DEMO_CATALOG = BASE_DIR / "catalog" / "data" / "demo_catalog.csv.gz"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The demo catalog (3,236 real tracks) is loaded once and committed: search, API and
    browser tests read it; each test's own writes are rolled back around it."""
    with django_db_blocker.unblock():
        _assert_on_the_test_database()
        call_command("import_catalog", str(DEMO_CATALOG), "--no-progress", verbosity=0)


def _assert_on_the_test_database() -> None:
    """Stop the run when the connection does not reach the test database. It happens when
    something queries the database while modules are imported (collection): Django's
    connection pool is then created for the real database and pytest-django's switch to the
    test database never reaches it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        current = cursor.fetchone()[0]
    expected = connection.settings_dict["NAME"]
    if current != expected:
        pytest.exit(
            f"!!! the tests are connected to database {current!r}, not the test database "
            f"{expected!r}: something touched the database at import time. Nothing more runs.",
            returncode=3,
        )


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hasher():
    """MD5 for the whole suite: PBKDF2's 1M iterations would cost ~0.3 s per sign-in. PBKDF2
    stays available for the accounts a browser test signs into: its server is another process,
    with the real hashers (tests/e2e)."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def throttle_rates(monkeypatch):
    """``throttle_rates(auth="3/minute", …)`` sets rates for one test: DRF reads
    ``DEFAULT_THROTTLE_RATES`` once, into the throttle classes, and musicrec.throttling reads
    the same attribute."""

    def set_rates(**rates: str) -> None:
        monkeypatch.setattr(
            ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, **rates}
        )

    return set_rates


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous API client."""
    return APIClient()


@pytest.fixture
def listener(db):
    """A signed-up listener (password ``tests.accounts.factories.PASSWORD``)."""
    return UserFactory(username="listener", email="listener@example.com")


@pytest.fixture
def user(listener):
    """The same listener under its older name."""
    return listener


@pytest.fixture
def other_listener(db):
    """A second listener, to prove one never sees or changes the other's data."""
    return UserFactory(username="other", email="other@example.com")


@pytest.fixture
def curator(db):
    """A staff member without superuser rights."""
    return StaffFactory(username="curator", email="curator@example.com")


@pytest.fixture
def superuser(db):
    return SuperuserFactory(username="admin", email="admin@example.com")


@pytest.fixture
def staff_user(superuser):
    """A superuser curator (the admin tests that need every permission)."""
    return superuser


def _api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _web_as(user) -> Client:
    web = Client()
    web.force_login(user)
    return web


@pytest.fixture
def listener_api(listener) -> APIClient:
    return _api_as(listener)


@pytest.fixture
def other_api(other_listener) -> APIClient:
    return _api_as(other_listener)


@pytest.fixture
def listener_web(listener) -> Client:
    return _web_as(listener)


@pytest.fixture
def other_web(other_listener) -> Client:
    return _web_as(other_listener)


@pytest.fixture
def curator_web(curator) -> Client:
    return _web_as(curator)


@pytest.fixture
def superuser_web(superuser) -> Client:
    return _web_as(superuser)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run, loudly, when a test left a process running under
    ``var/<instance>/helpers/`` (a Redis it started and did not stop); and stop it."""
    strays = embedded.processes_under([embedded.helpers_root(run_instance())])
    if not strays:
        return
    embedded.processes_stop(strays)
    lines = [f"  pid {stray.pid}: {stray.command}" for stray in strays]
    title = f"{len(strays)} process(es) started by tests were still running; now stopped"
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_sep("!", title, red=True, bold=True)
        for line in lines:
            reporter.write_line(line, red=True, bold=True)
    else:
        print(f"!!! {title}", *lines, sep="\n", file=sys.stderr)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
