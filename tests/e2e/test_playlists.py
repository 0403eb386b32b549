"""Playlists in a real browser: generate a radio from a track page, reorder two tracks by drag
(and check the stored order after a reload), the up/down buttons without JavaScript, export
M3U and import it back (same tracks, same order), and the pages at 390 px wide.

No ORM in the test bodies: see the docstring of ``tests/e2e/conftest.py``. The listener and
their playlists are committed by a module fixture before Playwright starts and deleted after
it stopped; each test works on a playlist of its own.
"""

from __future__ import annotations

import importlib.util
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PAGE_TIMEOUT_MS, server_password_hash

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-Playlists-4242"
ENTRIES = "ol.playlist-entries li.playlist-entry"

needs_generation = pytest.mark.skipif(
    importlib.util.find_spec("playlists.services.generate") is None,
    reason="the generator lands with the generation helper",
)
needs_transfer = pytest.mark.skipif(
    importlib.util.find_spec("playlists.selectors.transfer") is None,
    reason="export and import land with the import/export helper",
)


@pytest.fixture(scope="module")
def listener(django_db_setup, django_db_blocker) -> Iterator[dict]:
    """A committed listener with three playlists of popular tracks (the generator's radio
    needs a listener, not a history)."""
    from accounts.models import User
    from accounts.services import listener_onboarding_finish
    from catalog.models import Track
    from playlists.services.playlists import playlist_create

    username = f"e2e-pl-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        user = User.objects.create_user(username, f"{username}@example.com")
        user.password = server_password_hash(PASSWORD)
        user.save(update_fields=["password"])
        listener_onboarding_finish(user=user)
        ids = list(Track.objects.order_by("-popularity", "id").values_list("id", flat=True)[:12])
        made = {
            name: playlist_create(owner=user, name=name, track_ids=tracks).pk
            for name, tracks in (
                ("Drag me", ids[:5]),
                ("Buttons", ids[5:9]),
                ("Export me", [ids[9], ids[2], ids[11], ids[0], ids[10]]),
            )
        }
    yield {"username": username, "playlists": made, "tracks": ids}
    with django_db_blocker.unblock():
        User.objects.filter(pk=user.pk).delete()


def _sign_in(page: Page, username: str, next_path: str) -> None:
    page.goto(f"/accounts/login/?next={next_path}")
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(next_path.split("#")[0]) + "$"))


def _order(page: Page) -> list[str]:
    return page.locator(ENTRIES).evaluate_all("(rows) => rows.map((row) => row.dataset.trackId)")


def _no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_reorder_two_tracks_by_drag(listener: dict, page: Page, artifacts_dir: Path) -> None:
    playlist_id = listener["playlists"]["Drag me"]
    _sign_in(page, listener["username"], f"/playlists/{playlist_id}/")
    before = _order(page)
    assert before == [str(t) for t in listener["tracks"][:5]]
    expect(page.locator(".reorder-help")).to_have_text(
        "Drag a track to move it, or use its ↑ ↓ buttons.", use_inner_text=True
    )
    page.screenshot(path=artifacts_dir / "pl-1-detail.png", full_page=True)

    # when the first track is dragged onto the lower half of the second
    rows = page.locator(ENTRIES)
    target = rows.nth(1).bounding_box()
    assert target is not None
    rows.nth(0).drag_to(rows.nth(1), target_position={"x": 40, "y": target["height"] - 4})

    # then the page shows the new order at once, and the server said so
    expect(page.locator("#reorder-status")).to_contain_text("to position 2 of 5")
    assert _order(page) == [before[1], before[0], *before[2:]]
    expect(rows.nth(0).locator(".entry-position")).to_have_text("1")
    expect(rows.nth(0).get_by_role("button", name=re.compile(r" up$"))).to_be_disabled()
    expect(rows.nth(1).get_by_role("button", name=re.compile(r" up$"))).to_be_enabled()
    # and the order is stored: a reload shows it
    page.reload()
    assert _order(page) == [before[1], before[0], *before[2:]]

    # the ↑ button moves in place too (no page load), keeping the focus on it
    last = rows.nth(4).get_attribute("data-title")
    last_up = page.get_by_role("button", name=f"Move “{last}” up")
    last_up.click()
    expect(page.locator("#reorder-status")).to_contain_text("to position 4 of 5")
    expect(rows.nth(3)).to_have_attribute("data-title", last or "")
    expect(last_up).to_be_focused()
    page.reload()
    assert _order(page) == [before[1], before[0], before[2], before[4], before[3]]
    page.screenshot(path=artifacts_dir / "pl-2-after-drag.png", full_page=True)


def test_a_move_answered_with_another_order_shows_what_is_stored(
    listener: dict, page: Page
) -> None:
    """When the server's order is not the page's (another tab changed the playlist), the page
    reloads to show what is stored. Here the request never reaches the server: the test answers
    it with an order of its own, so the stored order is the one before."""
    playlist_id = listener["playlists"]["Drag me"]
    _sign_in(page, listener["username"], f"/playlists/{playlist_id}/")
    before = _order(page)
    page.route(
        re.compile(rf"/playlists/{playlist_id}/move/$"),
        lambda route: route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps({"order": [int(t) for t in reversed(before)]}),
        ),
    )

    with page.expect_navigation():
        page.locator(ENTRIES).nth(0).get_by_role("button", name=re.compile(r" down$")).click()

    expect(page.locator(ENTRIES)).to_have_count(len(before))
    assert _order(page) == before


def test_the_up_and_down_buttons_without_javascript(
    listener: dict, page: Page, artifacts_dir: Path, live_asgi_server: str
) -> None:
    playlist_id = listener["playlists"]["Buttons"]
    browser = page.context.browser
    assert browser is not None
    context = browser.new_context(
        base_url=live_asgi_server,
        java_script_enabled=False,
        viewport={"width": 1280, "height": 900},
        locale="en-US",
    )
    try:
        plain = context.new_page()
        plain.set_default_timeout(PAGE_TIMEOUT_MS)
        _sign_in(plain, listener["username"], f"/playlists/{playlist_id}/")
        before = _order(plain)

        # when the third track goes up, then the first goes down (each a plain POST)
        with plain.expect_navigation():
            plain.locator(ENTRIES).nth(2).get_by_role("button", name=re.compile(r" up$")).click()
        expect(plain).to_have_url(re.compile(rf"/playlists/{playlist_id}/#entry-{before[2]}$"))
        assert _order(plain) == [before[0], before[2], before[1], before[3]]
        with plain.expect_navigation():
            plain.locator(ENTRIES).nth(0).get_by_role("button", name=re.compile(r" down$")).click()

        # then the stored order is the new one
        plain.goto(f"/playlists/{playlist_id}/")
        assert _order(plain) == [before[2], before[0], before[1], before[3]]
        plain.screenshot(path=artifacts_dir / "pl-3-no-javascript.png", full_page=True)
    finally:
        context.close()


@needs_generation
def test_generate_a_radio_from_a_track_page(
    listener: dict, page: Page, artifacts_dir: Path
) -> None:
    seed = listener["tracks"][0]
    _sign_in(page, listener["username"], f"/tracks/{seed}/")
    title = page.locator("h1").first.inner_text().removesuffix(" E").strip()

    # the track page offers the radio in plain sight, beside "+ Playlist" (not inside it)
    radio = page.locator(".track-page-actions").get_by_role("link", name="Radio from this track")
    expect(radio).to_be_visible()
    radio.click()
    expect(page).to_have_url(re.compile(r"/playlists/generate/\?kind=radio"))
    expect(page.get_by_label("Radio from a track or an artist")).to_be_checked()
    expect(page.locator('[data-picker="seed_track_id"] [data-picker-chosen]')).to_contain_text(
        title
    )
    page.get_by_label("Length (tracks)").fill("12")
    page.screenshot(path=artifacts_dir / "pl-4-generate-radio.png", full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="Generate the playlist").click()

    # then the new playlist opens: named after its seed, 12 tracks, the seed first
    expect(page).to_have_url(re.compile(r"/playlists/\d+/$"))
    expect(page.locator("h1")).to_contain_text(title)
    expect(page.locator(ENTRIES)).to_have_count(12)
    assert _order(page)[0] == str(seed)
    page.screenshot(path=artifacts_dir / "pl-5-radio.png", full_page=True)


def test_the_sonic_path_picker_searches_as_you_type(
    listener: dict, page: Page, artifacts_dir: Path
) -> None:
    _sign_in(page, listener["username"], "/playlists/generate/")
    page.get_by_label("Sonic path from one track to another").check()
    expect(page.locator('[data-kind-part="radio"]')).to_be_hidden()

    # typing finds tracks; choosing one sets it in place
    page.get_by_label("Find the start track").fill("love")
    first = page.locator("#pick-results-from_track_id a.pick-choice").first
    expect(first).to_be_visible()
    chosen_title = first.get_attribute("data-pick-title")
    page.screenshot(path=artifacts_dir / "pl-15-path-picker.png", full_page=True)
    first.click()
    expect(page.locator('[data-picker="from_track_id"] [data-picker-chosen]')).to_contain_text(
        chosen_title or ""
    )
    assert page.locator('input[name="from_track_id"]').input_value() != ""
    expect(page).to_have_url(re.compile(r"/playlists/generate/$"))  # no navigation


@needs_transfer
def test_export_m3u_and_import_it_back(listener: dict, page: Page, artifacts_dir: Path) -> None:
    playlist_id = listener["playlists"]["Export me"]
    _sign_in(page, listener["username"], f"/playlists/{playlist_id}/")
    exported = _order(page)

    # when the M3U export is downloaded
    with page.expect_download() as download_info:
        page.get_by_role("link", name="M3U").click()
    download = download_info.value
    assert download.suggested_filename == "Export me.m3u8"
    saved = artifacts_dir / f"export-{playlist_id}.m3u8"
    download.save_as(saved)
    assert saved.read_text(encoding="utf-8").startswith("#EXTM3U")

    # and imported back
    page.goto("/playlists/import/")
    page.get_by_label("Playlist file").set_input_files(str(saved))
    page.get_by_label("Name (optional)").fill("Imported back")
    with page.expect_navigation():
        page.get_by_role("button", name="Import").click()
    expect(page.locator("h1")).to_contain_text("Imported “Imported back”")
    expect(page.locator(".lead")).to_contain_text("Everything matched.")
    page.screenshot(path=artifacts_dir / "pl-6-import-report.png", full_page=True)

    # then the imported playlist has the same tracks in the same order
    page.get_by_role("link", name="Open the playlist").click()
    expect(page.locator("h1")).to_have_text("Imported back")
    assert _order(page) == exported


def test_the_pages_at_390_px(listener: dict, page: Page, artifacts_dir: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    playlist_id = listener["playlists"]["Drag me"]
    _sign_in(page, listener["username"], "/playlists/")
    _no_horizontal_scroll(page)
    page.screenshot(path=artifacts_dir / "pl-7-list-390px.png", full_page=True)

    page.goto(f"/playlists/{playlist_id}/")
    _no_horizontal_scroll(page)
    # the drag handle is hidden at this width: the help does not ask for a drag
    expect(page.locator(".reorder-help")).to_have_text(
        "Move a track with its ↑ ↓ buttons.", use_inner_text=True
    )
    row = page.locator(ENTRIES).nth(1)
    for name in (r" up$", r" down$", r"^Remove "):
        box = row.get_by_role("button", name=re.compile(name)).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=artifacts_dir / "pl-8-detail-390px.png", full_page=True)

    page.goto("/playlists/generate/?kind=path")
    _no_horizontal_scroll(page)
    page.screenshot(path=artifacts_dir / "pl-9-generate-390px.png", full_page=True)

    page.goto(f"/tracks/{listener['tracks'][0]}/")
    page.locator(".track-page-actions .playlist-add summary").click()
    expect(page.get_by_role("button", name="Add", exact=True)).to_be_visible()
    _no_horizontal_scroll(page)
    page.screenshot(path=artifacts_dir / "pl-10-track-menu-390px.png", full_page=True)

    for path, shot in (
        (f"/playlists/new/?track_id={listener['tracks'][0]}", "pl-12-new-390px.png"),
        (f"/playlists/{playlist_id}/delete/", "pl-13-delete-390px.png"),
        ("/playlists/import/", "pl-14-import-390px.png"),
        (f"/playlists/by/{listener['username']}/", None),
    ):
        page.goto(path)
        _no_horizontal_scroll(page)
        if shot:
            page.screenshot(path=artifacts_dir / shot, full_page=True)

    page.goto("/search/?q=love")
    page.locator("ol.track-list li.track .playlist-add summary").first.click()
    _no_horizontal_scroll(page)
    page.screenshot(path=artifacts_dir / "pl-11-search-menu-390px.png")
