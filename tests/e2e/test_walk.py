"""What walking the pages as a new listener found, held in a real browser: the home list says
what a dislike did (and keeps saying it when a live update re-renders the list), a result's
buttons fit in two rows on a phone, similar tracks can be liked in place on a track page (htmx
on every signed-in page, not only the home page), and the search's pick is marked among the
results.

No ORM in the test bodies: see the docstring of ``tests/e2e/conftest.py``. The listener is
committed by a module fixture before Playwright starts and deleted after it stopped.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.e2e.conftest import server_password_hash, sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-Walk-4242"
RESULTS = "#rec-list li.rec"
IMPRESSION = "#rec-list .rec-results"
HOME_URL = r"^http://[^/]+/$"


@pytest.fixture(scope="module")
def walker(django_db_setup, django_db_blocker) -> Iterator[dict]:
    """A listener with a few history tracks, and a track of the catalog with similar tracks
    (its page is walked)."""
    from accounts.models import User
    from accounts.services import listener_onboarding_finish
    from catalog.models import Track
    from history.services.entries import history_entries_add

    username = f"e2e-walk-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        user = User.objects.create_user(username, f"{username}@example.com")
        user.password = server_password_hash(PASSWORD)
        user.save(update_fields=["password"])
        popular = list(Track.objects.order_by("-popularity", "id").values_list("id", flat=True))
        history_entries_add(user=user, track_ids=popular[:3])
        listener_onboarding_finish(user=user)
        track = Track.objects.get(pk=popular[20])
        word = max(track.title.split(), key=len)
    yield {"username": username, "track_id": track.pk, "word": word}
    with django_db_blocker.unblock():
        User.objects.filter(pk=user.pk).delete()


def _mock_socket(page: Page) -> list[WebSocketRoute]:
    sockets: list[WebSocketRoute] = []

    def answer(socket: WebSocketRoute) -> None:
        sockets.append(socket)

    page.route_web_socket(re.compile(r"/ws/recommendations/$"), answer)
    return sockets


def test_a_dislike_is_said_above_the_list_and_stays_through_a_live_update(
    walker: dict, page: Page, artifacts_dir
) -> None:
    sockets = _mock_socket(page)
    sign_in(page, walker["username"], PASSWORD, lands_on=HOME_URL)
    notice = page.locator("#rec-notice")
    expect(notice).to_be_hidden()  # empty until a button is pressed
    second = page.locator(RESULTS).nth(1)
    title = second.locator(".track-title").inner_text()

    # when the listener dislikes a track (htmx: the list is served again in place)
    second.get_by_role("button", name=f"Dislike “{title}”", exact=True).click()

    # then the page says what happened, naming the track
    expect(notice).to_have_text(f"“{title}” will not be recommended to you again.")
    expect(notice).to_be_visible()
    page.screenshot(path=artifacts_dir / "walk-1-dislike-notice.png")

    # and when a live update re-renders the list, the notice is still there
    before = page.locator(IMPRESSION).get_attribute("data-impression-id")
    expect(page.locator("[data-live-status]")).to_contain_text("Live")
    sockets[-1].send(json.dumps({"type": "recommendations.update", "reason": "feedback"}))
    expect(page.locator(IMPRESSION)).not_to_have_attribute("data-impression-id", before)
    expect(notice).to_have_text(f"“{title}” will not be recommended to you again.")

    # "Not this artist" says so too, with the way back
    first = page.locator(RESULTS).first
    artist = first.locator(".track-artists a").first.inner_text()
    first.locator(".feedback-block").click()
    expect(notice).to_contain_text(f"“{artist}” will not be recommended to you again.")
    expect(notice.get_by_role("link", name="Undo on your profile")).to_have_attribute(
        "href", "/accounts/profile/#recommendations"
    )

    # moving a control makes the notice stale: it goes
    page.get_by_label("Mood").select_option("calm")
    expect(notice).to_be_hidden()
    page.get_by_label("Mood").select_option("")  # as it was


def test_at_390_px_a_result_s_buttons_take_at_most_two_rows(walker: dict, page: Page) -> None:
    _mock_socket(page)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, walker["username"], PASSWORD, lands_on=HOME_URL)
    expect(page.locator(RESULTS)).to_have_count(10)

    rows = page.locator(RESULTS).evaluate_all(
        """(items) => items.map((li) => {
            const tops = [...li.querySelectorAll('.rec-actions button, .rec-actions .history-in')]
                .map((el) => Math.round(el.getBoundingClientRect().top));
            return new Set(tops).size;
        })"""
    )
    assert max(rows) <= 2, rows
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_a_similar_track_is_liked_in_place_on_a_track_page(walker: dict, page: Page) -> None:
    sign_in(page, walker["username"], PASSWORD, lands_on=HOME_URL)
    url = f"/tracks/{walker['track_id']}/"
    page.goto(url)
    similar = page.locator(".similar-tracks li.rec").first
    title = similar.locator(".track-title").inner_text()

    # when the listener likes the first similar track (htmx: no page load)
    similar.get_by_role("button", name=f"Like “{title}”", exact=True).click()

    # then its button says so, and the page is the same page
    expect(similar.locator(".feedback-like")).to_have_attribute("aria-pressed", "true")
    expect(similar.locator(".feedback-like")).to_have_text("♥ Liked")
    assert page.url.endswith(url)
    # and it can be added to the history from there as well
    expect(similar.locator(".history-add button, .history-in")).to_have_count(1)


def test_the_search_pick_is_marked_among_the_results(walker: dict, page: Page) -> None:
    sign_in(page, walker["username"], PASSWORD, lands_on=HOME_URL)
    page.goto(f"/search/?q={walker['word']}")
    box = page.locator(".search-pick")
    expect(box).to_be_visible()
    title = box.locator(".track-title").inner_text()

    # the box leads to the result, which is marked and has the buttons
    box.get_by_role("link", name=re.compile("below")).click()
    marked = page.locator("li.track.is-pick")
    expect(marked).to_have_count(1)
    expect(marked.locator(".pick-badge")).to_have_text("Our pick for you")
    expect(marked.locator(".track-title")).to_have_text(title)
    track_id = marked.get_attribute("data-track-id")
    expect(page).to_have_url(re.compile(rf"#track-{track_id}$"))

    # its like button works there, in place (htmx: no page load)
    marked.get_by_role("button", name=f"Like “{title}”", exact=True).click()
    liked = page.locator(f'li.track[data-track-id="{track_id}"] .feedback-like')
    expect(liked).to_have_attribute("aria-pressed", "true")
    expect(page).to_have_url(re.compile(rf"#track-{track_id}$"))
    expect(page.locator(".messages")).to_have_count(0)
