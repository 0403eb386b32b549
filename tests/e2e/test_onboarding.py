"""A new listener in a real browser: sign up, onboarding (about you, then genres picked with the
search box), the profile page, and finally deleting the account again.

No ORM in these test bodies: see the docstring of ``tests/e2e/conftest.py``. The server commits
what the browser does to the test database (the test's own transaction cannot roll it back), so
the test ends by deleting the account it created, through the page meant for that.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-Listen-4242"


def _pick(page: Page, group: str, genre: str) -> None:
    """Find ``genre`` with the search box and tick it in ``group`` (preferred/disliked)."""
    search = page.get_by_label("Find a genre")
    search.fill(genre)
    box = page.locator(f"[data-genre-group={group}]").get_by_role(
        "checkbox", name=genre, exact=True
    )
    expect(box).to_be_visible()
    box.check()


def test_sign_up_onboard_and_see_the_genres_on_the_profile(page: Page, artifacts_dir: Path) -> None:
    username = f"e2e-{uuid.uuid4().hex[:8]}"

    # sign up from the navigation
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("E-mail address").fill(f"{username}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    # step 1: about you
    expect(page).to_have_url(re.compile(r"/accounts/onboarding/$"))
    expect(page.locator(".step-count")).to_have_text("Step 1 of 2")
    expect(page.locator(".messages")).to_contain_text(f"Welcome to musicrec, {username}!")
    page.get_by_label("Age", exact=True).fill("29")
    page.get_by_label("Country", exact=True).select_option(label="Germany")
    page.get_by_label("Occupation", exact=True).select_option("engineer")
    page.get_by_label("Time zone", exact=True).select_option("Europe/Berlin")
    page.screenshot(path=artifacts_dir / "onboarding-1-about-you.png", full_page=True)
    page.get_by_role("button", name="Next: your genres").click()

    # step 2: genres, found with the search box
    expect(page).to_have_url(re.compile(r"/accounts/onboarding/genres/$"))
    expect(page.locator(".step-count")).to_have_text("Step 2 of 2")
    preferred = page.locator("[data-genre-group=preferred]")
    expect(preferred.locator(".genre-option")).to_have_count(114)
    _pick(page, "preferred", "rock")
    # the search narrows both lists: only genres with "rock" in their name are left
    visible = preferred.locator(".genre-option:visible")
    expect(visible.first).to_be_visible()
    for name in visible.all_inner_texts():
        assert "rock" in name
    _pick(page, "preferred", "jazz")
    # ticking a genre in one group unticks it in the other
    _pick(page, "disliked", "jazz")
    expect(preferred.get_by_role("checkbox", name="jazz", exact=True)).not_to_be_checked()
    _pick(page, "preferred", "jazz")
    expect(
        page.locator("[data-genre-group=disliked]").get_by_role("checkbox", name="jazz", exact=True)
    ).not_to_be_checked()
    # the chosen genres stay in view while the list is filtered
    expect(preferred.locator("[data-chosen]")).to_contain_text("2 chosen")
    expect(preferred.locator(".chosen-name")).to_have_text(["jazz", "rock"])
    page.screenshot(path=artifacts_dir / "onboarding-2-genres-filtered.png", full_page=True)
    page.get_by_label("Find a genre").fill("")
    expect(preferred.locator(".genre-option:visible")).to_have_count(114)
    page.screenshot(path=artifacts_dir / "onboarding-2-genres.png", full_page=True)
    page.get_by_role("button", name="Finish").click()

    # the profile shows what was chosen
    expect(page).to_have_url(re.compile(r"://[^/]+/$"))
    expect(page.locator(".messages")).to_contain_text("All set")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Profile").click()
    expect(page).to_have_url(re.compile(r"/accounts/profile/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(username)
    expect(page.get_by_test_id("preferred-genres").locator(".tag")).to_have_text(["jazz", "rock"])
    expect(page.get_by_test_id("disliked-genres")).to_have_text("Nothing")
    expect(page.locator("#finish-setup")).to_have_count(0)
    expect(page.get_by_label("Age", exact=True)).to_have_value("29")
    expect(page.get_by_label("Country", exact=True)).to_have_value("DE")
    expect(page.get_by_label("Time zone", exact=True)).to_have_value("Europe/Berlin")
    expect(page.locator(".profile-header")).to_contain_text("Times in Europe/Berlin")
    page.screenshot(path=artifacts_dir / "profile.png", full_page=True)

    # a wrong value is refused field by field, the typed value stays
    page.get_by_label("Age", exact=True).fill("")
    page.get_by_label("Age", exact=True).press_sequentially("12")
    page.locator("#about form").evaluate("form => form.noValidate = true")  # past the browser
    page.get_by_role("button", name="Save details").click()
    expect(page.locator("#id_age_error")).to_contain_text("greater than or equal to 13")
    expect(page.get_by_label("Age", exact=True)).to_have_value("12")
    page.screenshot(path=artifacts_dir / "profile-invalid-age.png", full_page=True)

    # clean up: delete the account (this also checks the page)
    page.get_by_role("link", name="Delete my account").click()
    expect(page).to_have_url(re.compile(r"/accounts/delete/$"))
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(page).to_have_url(re.compile(r"://[^/]+/$"))
    expect(page.locator(".messages")).to_contain_text("Your account and all its data were deleted")
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")
    ).to_be_visible()


def test_sign_up_errors_are_shown_and_the_input_kept(page: Page, artifacts_dir: Path) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("Username", exact=True).fill("<b>new</b>")
    page.get_by_label("E-mail address").fill("new@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD + "x")
    page.get_by_role("button", name="Sign up").click()

    expect(page.locator("#id_password2_error")).to_have_text("The two passwords do not match.")
    expect(page.get_by_label("Username", exact=True)).to_have_value("<b>new</b>")
    expect(page.get_by_label("E-mail address")).to_have_value("new@example.com")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")  # never sent back
    page.screenshot(path=artifacts_dir / "signup-errors.png", full_page=True)


def test_onboarding_genres_work_without_javascript(
    page: Page, live_asgi_server: str, artifacts_dir: Path
) -> None:
    context = page.context.browser.new_context(
        base_url=live_asgi_server,
        viewport={"width": 1280, "height": 900},
        java_script_enabled=False,
    )
    try:
        plain = context.new_page()
        username = f"nojs-{uuid.uuid4().hex[:8]}"
        plain.goto("/accounts/signup/")
        plain.get_by_label("Username", exact=True).fill(username)
        plain.get_by_label("E-mail address").fill(f"{username}@example.com")
        plain.get_by_label("Password", exact=True).fill(PASSWORD)
        plain.get_by_label("Password again").fill(PASSWORD)
        plain.get_by_role("button", name="Sign up").click()
        expect(plain.locator(".step-count")).to_have_text("Step 1 of 2")
        plain.get_by_role("button", name="Skip").click()

        # no search box without the script, every genre is a plain checkbox
        expect(plain.get_by_label("Find a genre")).to_be_hidden()
        preferred = plain.locator("[data-genre-group=preferred]")
        disliked = plain.locator("[data-genre-group=disliked]")
        preferred.get_by_role("checkbox", name="rock", exact=True).check()
        disliked.get_by_role("checkbox", name="rock", exact=True).check()
        plain.get_by_role("button", name="Finish").click()

        # the server refuses a genre in both groups and keeps the ticks
        expect(disliked.locator(".errorlist")).to_contain_text("cannot be both")
        expect(preferred.get_by_role("checkbox", name="rock", exact=True)).to_be_checked()
        plain.screenshot(path=artifacts_dir / "onboarding-2-no-js-error.png", full_page=True)
        disliked.get_by_role("checkbox", name="rock", exact=True).uncheck()
        disliked.get_by_role("checkbox", name="opera", exact=True).check()
        plain.get_by_role("button", name="Finish").click()

        plain.goto("/accounts/profile/")
        expect(plain.get_by_test_id("preferred-genres").locator(".tag")).to_have_text(["rock"])
        expect(plain.get_by_test_id("disliked-genres").locator(".tag")).to_have_text(["opera"])
        # skipped step 1: the profile offers to finish it
        expect(plain.locator("#finish-setup")).to_contain_text("Tell us a little about yourself")

        plain.goto("/accounts/delete/")
        plain.get_by_label("Your password").fill(PASSWORD)
        plain.get_by_role("button", name="Delete my account").click()
        expect(plain.locator(".messages")).to_contain_text("were deleted")
    finally:
        context.close()
