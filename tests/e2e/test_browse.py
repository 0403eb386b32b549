"""Browsing the catalog in a real browser, against the real ASGI server and the demo catalog.

No ORM in these test bodies: see the docstring of ``tests/e2e/conftest.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

RESULT_TITLES = "ol.track-list li.track a.track-title"


def _search_from_home(page: Page, query: str) -> None:
    page.goto("/")
    box = page.locator("form.big-search input[name=q]")
    expect(box).to_be_visible()
    box.fill(query)
    with page.expect_navigation():
        box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q="))


def test_typo_search_finds_bohemian_rhapsody_and_its_track_page(
    page: Page, artifacts_dir: Path
) -> None:
    _search_from_home(page, "bohemian rapsody")
    expect(page.locator("form.big-search input[name=q]")).to_have_value("bohemian rapsody")
    expect(page.locator("p.result-count")).to_contain_text("for “bohemian rapsody”")

    first = page.locator(RESULT_TITLES).first
    expect(first).to_have_text("Bohemian Rhapsody")
    expect(first).to_have_attribute("href", re.compile(r"^/tracks/\d+/$"))
    page.screenshot(path=artifacts_dir / "search-bohemian-rapsody.png", full_page=True)
    first.click()

    expect(page).to_have_url(re.compile(r"/tracks/\d+/$"))
    expect(page).to_have_title(re.compile(r"^Bohemian Rhapsody · musicrec$"))
    track = page.locator("article.track-page")
    expect(track.get_by_role("heading", level=1)).to_have_text("Bohemian Rhapsody")
    queen = track.locator("p.byline").get_by_role("link", name="Queen", exact=True)
    expect(queen).to_have_attribute("href", re.compile(r"^/artists/\d+/$"))
    spotify = track.get_by_role("link", name="Open in Spotify")
    expect(spotify).to_have_attribute(
        "href", re.compile(r"^https://open\.spotify\.com/track/[A-Za-z0-9]{22}$")
    )
    expect(track.get_by_role("heading", name="Audio features", level=2)).to_be_visible()
    features = track.locator("ul.features li")
    expect(features).to_have_count(7)
    expect(features.locator(".feature-label")).to_have_text(
        [
            "Danceability",
            "Energy",
            "Valence (positivity)",
            "Acousticness",
            "Instrumentalness",
            "Speechiness",
            "Liveness",
        ]
    )
    # The demo catalog has every feature of this track: a meter and a value each.
    expect(features.locator("meter")).to_have_count(7)
    expect(features.locator(".feature-value").first).to_have_text(re.compile(r"^[01]\.\d\d$"))

    page.screenshot(path=artifacts_dir / "track-bohemian-rhapsody.png", full_page=True)

    queen.click()
    expect(page).to_have_url(re.compile(r"/artists/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Queen")


# The demo catalog keeps the most popular Hangul and Kana titles (catalog/data/README.md).
@pytest.mark.parametrize(
    ("title", "artist"),
    [
        pytest.param("내 맘을 볼 수 있나요", "HEIZE", id="hangul"),
        pytest.param("ダンスホール", "Mrs. GREEN APPLE", id="kana"),
    ],
)
def test_search_finds_a_non_latin_title(page: Page, title: str, artist: str) -> None:
    _search_from_home(page, title)
    expect(page.locator("p.result-count")).to_contain_text(f"for “{title}”")
    first = page.locator("ol.track-list li.track").first
    expect(first.locator("a.track-title")).to_have_text(title)
    expect(first.locator(".track-artists")).to_contain_text(artist)


def test_one_character_query_shows_the_hint(page: Page) -> None:
    # The search boxes say minlength=2: the browser itself refuses to submit one typed character.
    page.goto("/")
    box = page.locator("form.big-search input[name=q]")
    box.press_sequentially("a")
    box.press("Enter")
    assert box.evaluate("el => el.validity.tooShort") is True
    expect(page).to_have_url(re.compile(r"://[^/]+/$"))
    # The server says so too, for a link or a bookmark that skips the form.
    page.goto("/search/?q=a")
    expect(page.locator("p.hint")).to_have_text("Type at least 2 characters to search.")
    expect(page.locator("ol.track-list")).to_have_count(0)
    expect(page.locator("form.big-search input[name=q]")).to_have_value("a")
