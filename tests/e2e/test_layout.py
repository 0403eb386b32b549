"""The header on a phone (390 × 844) and on a desktop: nothing clipped, no sideways scrolling.

No ORM in the test bodies: see the docstring of ``tests/e2e/conftest.py``. The curator (the
widest header: Curate, History, Profile, Sign out) is committed by a module fixture before
Playwright starts and deleted after it stopped.
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

PASSWORD = "e2e-Layout-4242"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def curator(django_db_setup, django_db_blocker) -> Iterator[str]:
    from accounts.models import User

    username = f"e2e-cur-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        user = User.objects.create_user(username, f"{username}@example.com", is_staff=True)
        user.password = server_password_hash(PASSWORD)
        user.save(update_fields=["password"])
    yield username
    with django_db_blocker.unblock():
        User.objects.filter(pk=user.pk).delete()


def _assert_header_fits(page: Page, width: int) -> None:
    nav = page.get_by_role("navigation", name="Main")
    button = nav.get_by_role("button", name="Search")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["y"] >= 0
    assert box["x"] + box["width"] <= width, box
    field = nav.get_by_role("searchbox", name="Search the catalog")
    field_box = field.bounding_box()
    assert field_box is not None
    assert field_box["x"] >= 0 and field_box["x"] + field_box["width"] <= box["x"]
    assert field_box["width"] >= 150, field_box  # room to type in
    for link in [*nav.get_by_role("link").all(), nav.get_by_role("button", name="Sign out")]:
        if link.count():
            link_box = link.bounding_box()
            assert link_box is not None and link_box["x"] + link_box["width"] <= width, link
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page scrolls sideways: {scroll_width} > {width}"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_header_fits_for_a_visitor(page: Page, artifacts_dir: Path, viewport) -> None:
    page.set_viewport_size(viewport)
    page.goto("/search/?q=bohemian+rhapsody")

    _assert_header_fits(page, viewport["width"])
    page.screenshot(path=artifacts_dir / f"header-visitor-{viewport['width']}.png")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_header_fits_for_a_signed_in_curator(
    page: Page, artifacts_dir: Path, curator: str, viewport
) -> None:
    page.set_viewport_size(viewport)
    sign_in(page, curator, PASSWORD, lands_on=r"^https?://[^/]+/$")

    _assert_header_fits(page, viewport["width"])
    page.screenshot(path=artifacts_dir / f"header-curator-{viewport['width']}.png")
    # the search still works from the narrow header
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("searchbox", name="Search the catalog").fill("queen")
    nav.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search/\?q=queen$"))
