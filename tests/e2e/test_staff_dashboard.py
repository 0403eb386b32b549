"""The staff dashboard in a real browser: every chart is drawn on a canvas from the same numbers
as its table (``Chart.getChart(canvas).data`` against the cells), the page fits a phone's width,
and without JavaScript the tables are there, open.

No ORM in the test bodies (see ``tests/e2e/conftest.py``): the staff member and a few weeks of
made-up activity are committed by a module fixture before Playwright starts, and deleted after.
Screenshots (1280 and 390 px wide) go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from insights.charts import format_value
from tests.e2e.conftest import server_password_hash, sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-Dash-4242"
URL = "/staff/insights/"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CHARTS = (
    "active-listeners",
    "interactions",
    "imports",
    "popular-tracks",
    "popular-genres",
    "retention",
    "served-source",
    "served-position",
)


@pytest.fixture(scope="module")
def staff(django_db_setup, django_db_blocker) -> Iterator[str]:
    """A staff member, and 12 listeners with six weeks of plays, likes and skips on popular
    tracks, served lists answered, imports and a model version: every chart has figures."""
    from django.utils import timezone

    from accounts.models import User
    from catalog.models import Track
    from history.models import Interaction, ListenImport
    from recommendations.models import Impression, ModelVersion

    tag = uuid.uuid4().hex[:8]
    rng = random.Random(14)
    now = timezone.now()
    with django_db_blocker.unblock():
        member = User.objects.create_user(f"e2e-dash-{tag}", f"dash-{tag}@example.com")
        member.is_staff = True
        member.password = server_password_hash(PASSWORD)
        member.save(update_fields=["is_staff", "password"])
        tracks = list(Track.objects.order_by("-popularity", "id")[:30])
        listeners = [
            User.objects.create_user(
                f"e2e-dash-{tag}-{n}",
                f"dash-{tag}-{n}@example.com",
                date_joined=now - dt.timedelta(days=rng.randrange(0, 42)),
            )
            for n in range(12)
        ]
        events = []
        for listener in listeners:
            for _ in range(25):
                at = now - dt.timedelta(days=rng.randrange(0, 40), minutes=rng.randrange(1, 1440))
                events.append(
                    Interaction(
                        user=listener,
                        track=tracks[min(int(rng.expovariate(0.2)), 29)],
                        kind=rng.choice(["play", "play", "like", "skip", "add_to_playlist"]),
                        occurred_at=at,
                        recorded_at=at,
                    )
                )
        Interaction.objects.bulk_create(events)
        for listener in listeners[:8]:
            served = rng.sample(tracks, 10)
            impression = Impression.objects.create(
                user=listener,
                surface="web",
                served_at=now - dt.timedelta(hours=rng.randrange(2, 100)),
                items=[
                    {
                        "track_id": t.pk,
                        "position": i + 1,
                        "score": 0.5,
                        "sources": {"collaborative": 0.6, "popularity": 0.1 * (i % 3)},
                    }
                    for i, t in enumerate(served)
                ],
            )
            for track, kind in ((served[0], "play"), (served[1], "like"), (served[4], "skip")):
                Interaction.objects.create(
                    user=listener, track=track, kind=kind, impression_id=impression.pk
                )
        for n, status in enumerate(["done", "done", "failed"]):
            ListenImport.objects.create(
                user=listeners[n],
                format="lastfm",
                status=status,
                created_at=now - dt.timedelta(days=n * 3),
                listens=200,
                matched=170,
                unmatched=30,
            )
        version = ModelVersion.objects.create(
            status="retired",
            training_seconds=12.5,
            listeners=12,
            tracks=30,
            cells=300,
            figures={"holdout": {"ndcg@10": 0.21, "recall@10": 0.33, "coverage@10": 0.4}},
        )
    yield member.username
    with django_db_blocker.unblock():
        ModelVersion.objects.filter(pk=version.pk).delete()
        User.objects.filter(username__startswith=f"e2e-dash-{tag}").delete()


@pytest.fixture
def stored_figures(staff: str, django_db_blocker) -> None:
    """The figures the Celery task stores (the page never computes them; the cache is cleared
    before each test, so they are stored again for each)."""
    from insights.services.dashboard import dashboard_refresh

    with django_db_blocker.unblock():
        dashboard_refresh()


def _chart_and_table(page: Page, key: str) -> tuple[dict, dict]:
    """What Chart.js drew on the figure's canvas, and what its table says."""
    return page.evaluate(
        """(key) => {
            const figure = document.getElementById("chart-" + key);
            const chart = Chart.getChart(figure.querySelector("canvas"));
            const table = figure.querySelector("table");
            return [
                {labels: chart.data.labels,
                 series: chart.data.datasets.map(d => ({label: d.label, values: d.data}))},
                {header: [...table.querySelectorAll("thead th")].slice(1).map(th => th.textContent),
                 rows: [...table.querySelectorAll("tbody tr")].map(tr => ({
                     label: tr.querySelector("th").textContent,
                     cells: [...tr.querySelectorAll("td")].map(td => td.textContent)}))},
            ];
        }""",
        key,
    )


@pytest.mark.usefixtures("stored_figures")
def test_the_dashboard_draws_its_charts_from_the_tables_numbers(
    page: Page, staff: str, artifacts_dir: Path
) -> None:
    # given a staff member signed in
    sign_in(page, staff, PASSWORD, next_path=URL, lands_on=r"/staff/insights/$")

    # then every chart is drawn, and its table folded away under "Show the numbers"
    expect(page.get_by_role("heading", name="Platform dashboard", level=1)).to_be_visible()
    for key in CHARTS:
        figure = page.locator(f"#chart-{key}")
        expect(figure).to_have_attribute("data-drawn", "")
        expect(figure.locator("canvas")).to_be_visible()
        expect(figure.locator("details.chart-table")).not_to_have_attribute("open", "")
    assert page.locator("canvas").count() == len(CHARTS)

    # and what each canvas shows is what its table says
    for key in CHARTS:
        drawn, table = _chart_and_table(page, key)
        assert drawn["labels"] == [row["label"] for row in table["rows"]], key
        assert [s["label"] for s in drawn["series"]] == table["header"], key
        value_format = (
            "percent" if key in ("retention", "served-source", "served-position") else "count"
        )
        for column, series in enumerate(drawn["series"]):
            shown = [row["cells"][column] for row in table["rows"]]
            assert [format_value(v, value_format) for v in series["values"]] == shown, key
        assert any(v for s in drawn["series"] for v in s["values"]), f"{key} is all zeros"

    page.screenshot(path=artifacts_dir / "staff-dashboard-1280.png", full_page=True)

    # a phone: nothing scrolls sideways, charts still drawn
    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("#chart-served-position")).to_have_attribute("data-drawn", "")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways: {width} > {PHONE['width']}"
    for key in CHARTS:
        box = page.locator(f"#chart-{key} canvas").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # the model versions' table is one card per version, not a table to scroll sideways
    versions = page.locator("#health table.stacking").first
    box = versions.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"], box
    expect(versions.locator("td[data-label='Training time']").first).to_be_visible()
    page.screenshot(path=artifacts_dir / "staff-dashboard-390.png", full_page=True)


@pytest.mark.usefixtures("stored_figures")
def test_without_javascript_the_tables_are_there(
    page: Page, staff: str, live_asgi_server: str, artifacts_dir: Path
) -> None:
    # a second browser context of the same browser, with JavaScript off
    browser = page.context.browser
    assert browser is not None
    context = browser.new_context(
        base_url=live_asgi_server, java_script_enabled=False, viewport=PHONE
    )
    try:
        plain = context.new_page()
        sign_in(plain, staff, PASSWORD, next_path=URL, lands_on=r"/staff/insights/$")

        for key in CHARTS:
            figure = plain.locator(f"#chart-{key}")
            expect(figure.locator("details.chart-table")).to_have_attribute("open", "")
            expect(figure.locator("table")).to_be_visible()
            expect(figure.locator(".chart-canvas")).to_be_hidden()
        expect(plain.get_by_role("table", name="Retention by sign-up week")).to_be_visible()
        expect(plain.get_by_text("ndcg@10 0.210")).to_be_visible()
        plain.screenshot(path=artifacts_dir / "staff-dashboard-390-no-js.png", full_page=True)
    finally:
        context.close()


def test_an_anonymous_visitor_is_sent_to_sign_in(page: Page, live_asgi_server: str) -> None:
    # an anonymous visit is sent to sign in, with the way back
    page.goto(URL)
    expect(page).to_have_url(f"{live_asgi_server}/accounts/login/?next=/staff/insights/")
