"""The listener's home page in a real browser: a dislike takes the track out of the list at
once, the discovery slider changes the list, the live client re-renders the list when the
server says so (and says when it is offline), and the page at 390 px wide.

No ORM in the test bodies: see the docstring of ``tests/e2e/conftest.py``. The listener (with a
few history entries, so discovery has something to move away from) is committed by a module
fixture before Playwright starts and deleted after it stopped.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.e2e.conftest import (
    ARTIFACTS,
    BASE_DIR,
    _database_url,
    _stop,
    server_password_hash,
    sign_in,
)

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-Recs-4242"
RESULTS = "#rec-list li.rec"
IMPRESSION = "#rec-list .rec-results"
HOME_URL = r"^http://[^/]+/$"


@pytest.fixture(scope="module")
def listener(django_db_setup, django_db_blocker) -> Iterator[str]:
    from accounts.models import User
    from accounts.services import listener_onboarding_finish
    from catalog.models import Track
    from history.services.entries import history_entries_add

    username = f"e2e-recs-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        user = User.objects.create_user(username, f"{username}@example.com")
        user.password = server_password_hash(PASSWORD)
        user.save(update_fields=["password"])
        popular = Track.objects.order_by("-popularity", "id").values_list("id", flat=True)[:8]
        history_entries_add(user=user, track_ids=list(popular))
        listener_onboarding_finish(user=user)
    yield username
    with django_db_blocker.unblock():
        User.objects.filter(pk=user.pk).delete()


@pytest.fixture(scope="module")
def celery_worker(live_asgi_server: str) -> Iterator[None]:
    """A Celery worker on the test database and the test instance's broker, as ``make run``
    starts one: the live update is computed in the worker (``recommendations.push_update``),
    never in the consumer. Started before Playwright (no ORM here), stopped after the module."""
    from django.conf import settings

    env = {
        **os.environ,
        "DATABASE_URL": _database_url(settings.DATABASES["default"]),
        "DEBUG": "1",
        "MUSICREC_INSTANCE": os.environ.get("MUSICREC_INSTANCE", "test"),
        "CONN_MAX_AGE": "0",
        "DB_POOL": "0",
        "PYTHONUNBUFFERED": "1",
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "celery-worker.log"
    log_path.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "celery", "-A", "musicrec", "worker", "-l", "INFO",
        "--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle",
        "--logfile", str(log_path),
    ]  # fmt: skip
    proc = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdin=subprocess.DEVNULL)
    try:
        _wait_for_line(proc, log_path, "ready.")
        yield
    finally:
        _stop(proc)


def _wait_for_line(proc: subprocess.Popen, log_path: Path, text: str) -> None:
    """Until the worker's log says ``text`` (it is ready to take tasks)."""
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Celery worker exited ({proc.returncode}): see {log_path}")
        if log_path.exists() and text in log_path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the Celery worker was not ready within 60 s: see {log_path}")


def _listed(page: Page) -> list[str]:
    return page.locator(RESULTS).evaluate_all("(items) => items.map((li) => li.dataset.trackId)")


def _impression(page: Page) -> str:
    return page.locator(IMPRESSION).get_attribute("data-impression-id")


def _changed_after(page: Page, action) -> None:
    """Do ``action`` and wait until the list on the page is another served list."""
    before = _impression(page)
    action()
    page.wait_for_function(
        "(old) => document.querySelector('#rec-list .rec-results').dataset.impressionId !== old",
        arg=before,
    )


def _mock_socket(page: Page) -> list[WebSocketRoute]:
    """Answer /ws/recommendations/ in the browser (the test plays the server): the client is
    tested on its own; ``test_two_pages_of_one_listener`` drives the real consumer."""
    sockets: list[WebSocketRoute] = []

    def answer(socket: WebSocketRoute) -> None:
        sockets.append(socket)

    page.route_web_socket(re.compile(r"/ws/recommendations/$"), answer)
    return sockets


def test_a_dislike_takes_the_track_out_of_the_list_at_once(
    listener: str, page: Page, artifacts_dir: Path
) -> None:
    _mock_socket(page)
    sign_in(page, listener, PASSWORD, lands_on=HOME_URL)
    expect(page.locator(RESULTS)).to_have_count(10)
    before = _listed(page)
    first = page.locator(RESULTS).first
    title = first.locator(".track-title").inner_text()
    page.screenshot(path=artifacts_dir / "recs-1-home.png", full_page=True)

    # when the listener presses "Dislike" on the first track (htmx: no page load)
    first.get_by_role("button", name=f"Dislike “{title}”").click()

    # then the list is served again in place, without that track
    expect(page.locator(f'{RESULTS}[data-track-id="{before[0]}"]')).to_have_count(0)
    expect(page.locator(RESULTS)).to_have_count(10)
    assert page.url.endswith("/")  # no navigation happened
    page.screenshot(path=artifacts_dir / "recs-2-after-dislike.png", full_page=True)


def test_the_discovery_slider_changes_the_list(listener: str, page: Page) -> None:
    _mock_socket(page)
    sign_in(page, listener, PASSWORD, lands_on=HOME_URL)
    slider = page.get_by_label("Discovery")
    _changed_after(page, lambda: slider.fill("0"))
    familiar = _listed(page)

    # when the slider is moved to "New": a new list is served in place, a different one
    _changed_after(page, lambda: slider.fill("1"))
    assert _listed(page) != familiar
    # and the setting is kept: a reload shows the slider where it was left
    page.reload()
    expect(page.get_by_label("Discovery")).to_have_value("1")
    _changed_after(page, lambda: page.get_by_label("Discovery").fill("0.5"))  # as it was


def test_the_live_client_rerenders_the_list_and_says_when_it_is_offline(
    listener: str, page: Page, artifacts_dir: Path
) -> None:
    sockets = _mock_socket(page)
    sign_in(page, listener, PASSWORD, lands_on=HOME_URL)
    status = page.locator("[data-live-status]")
    expect(status).to_contain_text("Live")
    before = _impression(page)
    fetched: list[str] = []
    page.on(
        "request", lambda r: fetched.append(r.url) if "/recommendations/list/" in r.url else None
    )

    # a push of the very list shown (this page made the change) is not fetched again
    sockets[-1].send(
        json.dumps(
            {
                "type": "recommendations.update",
                "reason": "context",
                "results": [{"track": {"id": int(t)}} for t in _listed(page)],
            }
        )
    )
    # when the server says the list changed because the history did
    sockets[-1].send(
        json.dumps({"type": "recommendations.update", "reason": "history", "results": []})
    )
    sockets[-1].send(json.dumps({"type": "history.changed", "count": 9}))

    # then the list is fetched and swapped in without a reload, and the status line says why
    expect(page.locator(IMPRESSION)).not_to_have_attribute("data-impression-id", before)
    expect(status).to_contain_text("Updated just now (because your history changed)")
    expect(page.locator("[data-history-count]")).to_have_text("9")
    assert len(fetched) == 1  # the second update only (the messages arrive in order)
    page.screenshot(path=artifacts_dir / "recs-3-live-update.png", full_page=True)

    # garbage from the server is ignored; the client answers nothing but may ping
    sockets[-1].send("not json")
    expect(status).to_contain_text("Live")

    # when the connection drops, it says so and reconnects with backoff
    sockets[-1].close(code=1011)
    expect(status).to_contain_text("Offline — reconnecting…")
    page.screenshot(path=artifacts_dir / "recs-4-offline.png", full_page=True)
    expect(status).to_contain_text("Live", timeout=10_000)
    assert len(sockets) == 2


def test_the_home_page_at_390_px(listener: str, page: Page, artifacts_dir: Path) -> None:
    _mock_socket(page)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, listener, PASSWORD, lands_on=HOME_URL)
    expect(page.locator(RESULTS)).to_have_count(10)

    # nothing is wider than the screen
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    first = page.locator(RESULTS).first
    for name in ("Like", "Dislike", "Skip"):
        box = first.get_by_role("button", name=re.compile(rf"^{name} ")).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=artifacts_dir / "recs-5-390px.png", full_page=True)

    # and search results with their like / dislike / add buttons
    page.goto("/search/?q=love")
    expect(
        page.locator("ol.track-list li.track").first.get_by_role(
            "button", name=re.compile("^Like ")
        )
    ).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=artifacts_dir / "recs-6-search-390px.png")


def test_two_pages_of_one_listener(
    listener: str, celery_worker: None, page: Page, django_db_blocker
) -> None:
    """Adding a history track on one page changes the other page's list without a reload."""
    sign_in(page, listener, PASSWORD, lands_on=HOME_URL)
    watcher = page
    expect(watcher.locator("[data-live-status]")).to_contain_text("Live")
    before = _impression(watcher)
    count = watcher.locator("[data-history-count]").inner_text()

    other = page.context.new_page()
    other.goto("/")
    with other.expect_navigation():
        other.locator(RESULTS).first.get_by_role(
            "button", name=re.compile(r"^Add .* to your history$")
        ).click()
    expect(other.locator(".messages")).to_contain_text("to your history")

    # then the first page's list and history count change by themselves (no reload)
    expect(watcher.locator(IMPRESSION)).not_to_have_attribute("data-impression-id", before)
    expect(watcher.locator("[data-live-status]")).to_contain_text("because your history changed")
    expect(watcher.locator("[data-history-count]")).not_to_have_text(count)
    # showing the pushed list under the impression the worker recorded, not one more of its own
    # (read in a thread of its own: Playwright's event loop makes this one async to Django)
    shown = _impression(watcher)

    def surface() -> str:
        from django.db import connection

        from recommendations.models import Impression

        try:
            return Impression.objects.get(pk=shown).surface
        finally:
            connection.close()

    with django_db_blocker.unblock(), ThreadPoolExecutor(1) as thread:
        assert thread.submit(surface).result() == "live"
