"""Browser tests: Debian's Chromium, driven by Playwright (sync API), against the real ASGI
server (uvicorn + ``musicrec.asgi``) running in a child process on the pytest-django TEST
database.

Data: ``tests/conftest.py``'s ``django_db_setup`` imports the demo catalog into the test database
once and COMMITS it, so the server process sees it. Tests here only read that catalog through the
browser.

Sync Playwright vs the Django ORM
---------------------------------
``sync_playwright().start()`` runs an asyncio event loop on this thread (greenlets switch in and
out of it): until ``playwright.stop()``, ``asyncio.get_running_loop()`` succeeds here, Django's
``async_unsafe`` guard sees it, and ANY ORM call in the test process raises
``SynchronousOnlyOperation`` (checked). We do not paper over that with
``DJANGO_ALLOW_ASYNC_UNSAFE``, nor run Playwright in its own thread (its sync objects only work
on the thread that started it, so every page call would have to be shipped there). Instead the
fixture graph keeps the two apart in time:

* Every test here gets the ``django_db`` marker (added below). pytest-django only creates the
  test database when a collected test asks for it; without the marker ``tests/e2e`` run on its
  own would get NO test database, and ``tests/conftest.py`` would import the catalog into the
  instance's real one. The marker also wraps each test in a transaction that is rolled back.
* That transaction (an autouse fixture) is opened before Playwright starts, and rolled back
  after it stopped: Playwright and Chromium are FUNCTION-scoped (``page`` starts and stops
  them) — a longer-lived Playwright would still be running at that rollback. It costs about a
  second per test.
* ``live_asgi_server`` depends on ``django_db_setup`` (test database, catalog import: ORM work
  done before any Playwright), and ``page`` on ``live_asgi_server``.
* Test bodies never touch the ORM while ``page`` is active. They would gain nothing from it: the
  server is another process and cannot see rows written inside the test's transaction, and
  ``transactional_db`` would flush every table after the test — the shared catalog included.
  Check what a user sees. A test that needs rows of its own must commit them before Playwright
  starts (e.g. a session fixture next to ``django_db_setup``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
ARTIFACTS = BASE_DIR / "test-artifacts" / "e2e"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_TIMEOUT = 30.0
SERVER_STOP_TIMEOUT = 10.0
PAGE_TIMEOUT_MS = 15_000

_skipped_key = pytest.StashKey[int]()
_reports_key = pytest.StashKey[dict]()

SKIP_REASON = (
    f"!!! BROWSER TESTS SKIPPED: {CHROMIUM} is missing. Install Debian's Chromium "
    "(`apt-get install -y chromium`, or `make browser` as root); never `playwright install`."
)


# --------------------------------------------------------------------------- skip without Chromium
def _in_e2e(item: pytest.Item) -> bool:
    return Path(str(item.path)).resolve().is_relative_to(E2E_DIR)


@pytest.hookimpl(tryfirst=True)  # before pytest-django sorts the tests by database use
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Hooks in a sub-folder conftest still see every collected item: only touch ours.
    ours = [item for item in items if _in_e2e(item)]
    for item in ours:
        if item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db)
    if not CHROMIUM.exists():
        skip = pytest.mark.skip(reason=SKIP_REASON)
        for item in ours:
            item.add_marker(skip)
        config.stash[_skipped_key] = len(ours)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    # A skip is easy to miss under -q: say it in red at the end of the run.
    skipped = config.stash.get(_skipped_key, 0)
    if skipped:
        terminalreporter.write_sep("!", f"{skipped} browser test(s) skipped", red=True, bold=True)
        terminalreporter.write_line(SKIP_REASON, red=True, bold=True)


# --------------------------------------------------------------------------- the ASGI server
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url(db: dict) -> str:
    """A DATABASE_URL (django-environ syntax) for the connection settings ``db``.

    The embedded PostgreSQL listens on a unix socket. django-environ parses its URL,
    ``postgresql://postgres:@/musicrec?host=/abs/socket/dir``, into HOST "" and
    OPTIONS {"host": "/abs/socket/dir"} (psycopg takes it from there): so OPTIONS go back into
    the query string, and a HOST that is a socket directory goes there too.
    """
    # the connection pool is a setting of the server's own (DB_POOL*), not part of the URL
    options = {key: value for key, value in (db.get("OPTIONS") or {}).items() if key != "pool"}
    host = str(db.get("HOST") or "")
    port = str(db.get("PORT") or "")
    if host.startswith("/"):
        options["host"], host = host, ""
        if port:
            options["port"], port = port, ""
    for key, value in options.items():
        if not isinstance(value, str | int | float | bool):
            raise ValueError(f"cannot pass database OPTIONS[{key!r}]={value!r} in a URL")
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = f"{user}:{password}@{host}{':' + port if port else ''}"
    query = urlencode({key: str(value) for key, value in options.items()}, safe="/")
    return f"postgresql://{netloc}/{quote(str(db['NAME']), safe='')}{'?' + query if query else ''}"


def _effective(db: dict) -> tuple:
    """What a connection is made to, whether host/port are fields or OPTIONS."""
    options = {key: str(value) for key, value in (db.get("OPTIONS") or {}).items() if key != "pool"}
    host = str(db.get("HOST") or "") or options.pop("host", "")
    port = str(db.get("PORT") or "") or options.pop("port", "")
    return (db["NAME"], db.get("USER") or "", host, port, sorted(options.items()))


def _wait_until_serving(proc: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"uvicorn exited with status {proc.returncode} before serving; "
                f"its log ({log_path}):\n{log_path.read_text(errors='replace')[-4000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own http URL)
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it is serving (/health/ may 503 without a broker)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            time.sleep(0.2)
    raise RuntimeError(
        f"uvicorn did not answer {url} within {SERVER_START_TIMEOUT:.0f} s; "
        f"its log ({log_path}):\n{log_path.read_text(errors='replace')[-4000:]}"
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(SERVER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def live_asgi_server(django_db_setup) -> Iterator[str]:
    """The real ASGI application under uvicorn, on the test database; yields its base URL.

    After ``django_db_setup`` the connection settings name the TEST database (pytest-django
    renamed NAME to ``test_…``; the socket directory is in OPTIONS["host"]); the child gets
    them as DATABASE_URL, which wins over ``var/<instance>/services.env`` in musicrec.settings.
    """
    from django.conf import settings
    from environ import Env

    db = settings.DATABASES["default"]
    if not str(db["NAME"]).startswith("test_"):
        pytest.fail(
            f"refusing to serve database {db['NAME']!r}: pytest-django did not set up a test "
            "database (does the test carry the django_db marker?)"
        )
    database_url = _database_url(db)
    parsed = Env.db_url_config(database_url)
    assert _effective(parsed) == _effective(db), (
        f"{database_url!r} does not round-trip to the test database settings {db!r}"
    )

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "1",
        "MUSICREC_INSTANCE": os.environ.get("MUSICREC_INSTANCE", "test"),
        # No persistent connections: nothing of the server's may linger when pytest-django
        # drops the test database at the end of the session.
        "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "uvicorn.log"
    command = [
        sys.executable, "-m", "uvicorn", "musicrec.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--lifespan", "off",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_serving(proc, f"{base_url}/health/", log_path)
            yield base_url
        finally:
            _stop(proc)


def server_password_hash(password: str) -> str:
    """A password hash the live server can check. The suite hashes with MD5 for speed
    (tests/conftest.py); the server runs with the default hashers, which know no MD5, so an
    account the browser signs in with gets a PBKDF2 hash (made directly: this process's
    hasher list holds only MD5)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    return hasher.encode(password, hasher.salt())


def sign_in(page, username: str, password: str, *, next_path: str = "", lands_on: str) -> None:
    """Sign in through the web form (``?next=`` when given) and check the page it lands on
    (``lands_on``: a regular expression for the URL)."""
    import re

    from playwright.sync_api import expect

    page.goto("/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(lands_on))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    report = yield
    item.stash.setdefault(_reports_key, {})[report.when] = report
    return report


# --------------------------------------------------------------------------- Playwright
@pytest.fixture
def page(live_asgi_server, request: pytest.FixtureRequest):
    """Playwright, Chromium and a page with ``base_url`` set to the live server, for ONE test.

    Function-scoped on purpose: see "Sync Playwright vs the Django ORM" above. Fails the test
    when the page logs a JavaScript error or one of the server's own resources (page, CSS, icon)
    answers 4xx/5xx; on failure, saves a full-page screenshot under test-artifacts/e2e/.
    """
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=PAGE_TIMEOUT_MS)
    problems: list[str] = []
    # Closed in reverse order, each even if an earlier close fails: Playwright's loop must not
    # outlive the test (the db fixture rolls back after this fixture ends).
    with contextlib.ExitStack() as stack:
        playwright = sync_playwright().start()
        stack.callback(playwright.stop)
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        context = browser.new_context(
            base_url=live_asgi_server, viewport={"width": 1280, "height": 900}, locale="en-US"
        )
        stack.callback(context.close)
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
        page.on(
            "console",
            lambda msg: (
                problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
            ),
        )
        page.on(
            "response",
            lambda resp: (
                problems.append(f"HTTP {resp.status} for {resp.url}")
                if resp.status >= 400 and resp.url.startswith(live_asgi_server)
                else None
            ),
        )
        yield page
        call = request.node.stash.get(_reports_key, {}).get("call")
        if call is not None and call.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Exception):
                page.screenshot(path=ARTIFACTS / f"FAILED-{request.node.name}.png", full_page=True)
    if problems:
        pytest.fail("the browser saw problems:\n" + "\n".join(problems))


@pytest.fixture
def artifacts_dir() -> Path:
    """``test-artifacts/e2e/`` (git-ignored): screenshots and the server's log."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
