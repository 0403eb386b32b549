"""The 50-track history in a real browser: add from search until the meter warns, the add
button disabled with its reason at 50, and a stale 51st add refused with the count kept at 50.

No ORM in the test body: see the docstring of ``tests/e2e/conftest.py``. The listener and their
first 44 entries are committed by a module fixture BEFORE Playwright starts (the server is
another process and cannot see the test's own transaction) and deleted after it stopped.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import server_password_hash, sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-History-4242"
QUERY = "love"
PREFILLED = 44
RESULT = "ol.track-list li.track"
FULL_REASON = "Your history is full (50/50) — remove a track first"


@pytest.fixture(scope="module")
def listener(django_db_setup, django_db_blocker) -> Iterator[str]:
    """A committed listener with 44 entries that are not among the search results for QUERY."""
    from accounts.models import User
    from catalog.models import Track
    from catalog.selectors import track_search_ranked_ids
    from history.services.entries import history_entries_add

    username = f"e2e-hist-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        found = {track_id for track_id, _ in track_search_ranked_ids(query=QUERY)}
        user = User.objects.create_user(username, f"{username}@example.com")
        user.password = server_password_hash(PASSWORD)
        user.save(update_fields=["password"])
        prefill = (Track.objects.exclude(pk__in=found).order_by("id").values_list("id", flat=True))[
            :PREFILLED
        ]
        history_entries_add(user=user, track_ids=list(prefill))
    yield username
    with django_db_blocker.unblock():
        User.objects.filter(pk=user.pk).delete()


def _add(page: Page, index: int) -> None:
    with page.expect_navigation():
        page.locator(RESULT).nth(index).get_by_role("button", name="Add to history").click()
    expect(page).to_have_url(re.compile(rf"/search/\?q={QUERY}(#track-\d+)?$"))


def test_fill_the_history_from_search_and_refuse_a_stale_51st_add(
    listener: str, page: Page, artifacts_dir: Path
) -> None:
    sign_in(page, listener, PASSWORD, next_path="/history/", lands_on=r"/history/$")
    meter = page.locator("[data-history-meter]")
    expect(meter.locator("[data-history-count]")).to_have_text("44 / 50")
    expect(meter).not_to_have_class(re.compile(r"history-meter--(warning|full)"))

    # a search page opened now goes stale once the history fills
    stale = page.context.new_page()
    stale.goto(f"/search/?q={QUERY}")
    expect(
        stale.locator(RESULT).nth(10).get_by_role("button", name="Add to history")
    ).to_be_enabled()

    # the 45th add warns, and the meter shows the warning state
    page.goto(f"/search/?q={QUERY}")
    _add(page, 0)
    expect(page.locator(".messages")).to_contain_text("5 slots remaining")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    expect(meter).to_have_class(re.compile(r"history-meter--warning"))
    expect(meter.locator("[data-history-count]")).to_have_text("45 / 50")
    expect(meter).to_contain_text("5 slots remaining")
    page.screenshot(path=artifacts_dir / "history-1-warning.png", full_page=True)

    # up to 50: "0 slots remaining", then every add button is disabled with its reason
    page.goto(f"/search/?q={QUERY}")
    for index in range(1, 6):
        _add(page, index)
    expect(page.locator(".messages")).to_contain_text("0 slots remaining")
    expect(page.locator("#history-full-reason")).to_have_text(re.compile(re.escape(FULL_REASON)))
    buttons = page.locator(RESULT).get_by_role("button", name="Add to history")
    expect(buttons.first).to_be_disabled()
    expect(buttons.nth(10)).to_be_disabled()
    page.screenshot(path=artifacts_dir / "history-2-full-search.png", full_page=True)

    # the stale page still offers the add: submitting it is refused and nothing changes
    with stale.expect_navigation():
        stale.locator(RESULT).nth(10).get_by_role("button", name="Add to history").click()
    expect(stale.locator(".message.error")).to_contain_text("Your history is full")
    stale.screenshot(path=artifacts_dir / "history-3-stale-refused.png", full_page=True)

    page.goto("/history/")
    expect(meter).to_have_class(re.compile(r"history-meter--full"))
    expect(meter.locator("[data-history-count]")).to_have_text("50 / 50")
    expect(page.locator("ol.history-list > li")).to_have_count(50)
    page.screenshot(path=artifacts_dir / "history-4-full.png", full_page=True)
