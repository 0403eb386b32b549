"""The listener's insights page in a real browser: every chart is drawn from the numbers of its
table, the tables stand alone without JavaScript, and the page fits a phone (390 px).

No ORM in the test bodies: see the docstring of ``tests/e2e/conftest.py``. The listener (a
history, 300 plays over 90 days, likes, one served list they kept a track from) is committed
by a module fixture before Playwright starts and deleted after it stopped.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from insights.charts import format_value
from tests.e2e.conftest import server_password_hash, sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-Insights-4242"
PHONE = {"width": 390, "height": 844}
CHARTS = 8
DRAWN = "figure.chart[data-drawn]"


@pytest.fixture(scope="module")
def listener(django_db_setup, django_db_blocker) -> Iterator[str]:
    from django.utils import timezone

    from accounts.models import User
    from catalog.models import Track
    from history.models import HistoryEntry, Interaction
    from history.services.interactions import interaction_record
    from recommendations.models import Impression

    rng = random.Random(1414)
    username = f"e2e-ins-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        user = User.objects.create_user(username, f"{username}@example.com")
        user.password = server_password_hash(PASSWORD)
        user.time_zone = "Europe/Berlin"
        user.save(update_fields=["password", "time_zone"])
        tracks = list(Track.objects.filter(genres__isnull=False).distinct().order_by("id")[:60])
        now = timezone.now()
        for slot, track in enumerate(tracks[:30], start=1):
            HistoryEntry.objects.create(user=user, track=track, slot=slot)
        Interaction.objects.bulk_create(
            Interaction(
                user=user,
                track=rng.choice(tracks[:40]),
                kind="play",
                occurred_at=now - dt.timedelta(minutes=rng.randrange(1, 89 * 24 * 60)),
            )
            for _ in range(300)
        )
        for track in tracks[:6]:
            interaction_record(user=user, track_id=track.pk, kind="like")
        fresh = tracks[50]
        Impression.objects.create(
            user=user,
            served_at=now - dt.timedelta(days=2),
            surface="web",
            items=[{"track_id": fresh.pk, "position": 0}],
        )
        interaction_record(user=user, track_id=fresh.pk, kind="like")
    yield username
    with django_db_blocker.unblock():
        User.objects.filter(pk=user.pk).delete()


def _open(page: Page, username: str) -> None:
    sign_in(page, username, PASSWORD, next_path="/insights/", lands_on=r"/insights/$")


def _figure_numbers(page: Page, key: str) -> dict:
    """What the chart drew (Chart.js' own data), its spec and what its table says."""
    return page.evaluate(
        """(key) => {
            const figure = document.getElementById("chart-" + key);
            const chart = Chart.getChart(figure.querySelector("canvas"));
            const rows = [...figure.querySelectorAll(".chart-table tbody tr")];
            return {
                spec: JSON.parse(document.getElementById("chart-" + key + "-data").textContent),
                labels: chart.data.labels,
                datasets: chart.data.datasets.map((d) => ({label: d.label, data: d.data})),
                heads: [...figure.querySelectorAll(".chart-table thead th")].slice(1)
                    .map((th) => th.textContent.trim()),
                rows: rows.map((tr) => ({
                    label: tr.querySelector("th").textContent.trim(),
                    cells: [...tr.querySelectorAll("td")].map((td) => td.textContent.trim()),
                })),
            };
        }""",
        key,
    )


def test_the_page_draws_every_chart_from_its_table(
    page: Page, listener: str, artifacts_dir: Path
) -> None:
    _open(page, listener)

    expect(page.locator(DRAWN)).to_have_count(CHARTS)
    expect(page.locator("figure.chart canvas:visible")).to_have_count(CHARTS)
    keys = page.locator(DRAWN).evaluate_all("(fs) => fs.map((f) => f.id.slice(6))")
    assert len(keys) == CHARTS
    for key in keys:
        numbers = _figure_numbers(page, key)
        spec = numbers["spec"]
        # the chart's labels and values are the table's rows, series by series
        assert numbers["labels"] == [row["label"] for row in numbers["rows"]], key
        assert [d["label"] for d in numbers["datasets"]] == numbers["heads"], key
        for index, dataset in enumerate(numbers["datasets"]):
            assert dataset["data"] == spec["series"][index]["values"], key
            assert [format_value(v, spec["format"]) for v in dataset["data"]] == [
                row["cells"][index] for row in numbers["rows"]
            ], key
        # drawn: the table folds away under "Show the numbers"
        assert page.locator(f"#chart-{key} details.chart-table").get_attribute("open") is None
    days = _figure_numbers(page, "days")
    assert len(days["labels"]) == 90 and sum(days["datasets"][0]["data"]) == 300
    assert sum(_figure_numbers(page, "hours")["datasets"][0]["data"]) == 300
    expect(page.get_by_text("Recommendations brought you 1 track you kept")).to_be_visible()
    page.screenshot(path=artifacts_dir / "insights-desktop.png", full_page=True)


def test_without_javascript_the_tables_show_and_no_canvas(
    page: Page, listener: str, artifacts_dir: Path, live_asgi_server: str
) -> None:
    browser = page.context.browser
    assert browser is not None
    context = browser.new_context(
        base_url=live_asgi_server,
        java_script_enabled=False,
        viewport={"width": 1280, "height": 900},
    )
    try:
        plain = context.new_page()
        _open(plain, listener)

        expect(plain.locator("figure.chart")).to_have_count(CHARTS)
        expect(plain.locator("figure.chart details.chart-table table:visible")).to_have_count(
            CHARTS
        )
        expect(plain.locator("canvas:visible")).to_have_count(0)
        rows = plain.locator("#chart-days details.chart-table tbody tr")
        expect(rows).to_have_count(90)
        spec = json.loads(plain.locator("#chart-days-data").text_content() or "{}")
        assert sum(spec["series"][0]["values"]) == 300
        plain.screenshot(path=artifacts_dir / "insights-no-js.png", full_page=True)
    finally:
        context.close()


def test_the_page_fits_a_phone(page: Page, listener: str, artifacts_dir: Path) -> None:
    page.set_viewport_size(PHONE)
    _open(page, listener)

    expect(page.locator(DRAWN)).to_have_count(CHARTS)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], f"the page scrolls sideways: {scroll_width}"
    for canvas in page.locator("figure.chart canvas").all():
        box = canvas.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.screenshot(path=artifacts_dir / "insights-phone.png", full_page=True)
    # a table opened on a phone scrolls inside its box, not the page
    page.locator("#chart-top-tracks summary").click()
    expect(page.locator("#chart-top-tracks table")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=artifacts_dir / "insights-phone-table.png", full_page=True)


def test_a_new_listener_sees_what_to_do(page: Page, artifacts_dir: Path, newcomer: str) -> None:
    page.set_viewport_size(PHONE)
    _open(page, newcomer)

    expect(page.get_by_role("heading", name="Nothing to show yet")).to_be_visible()
    expect(page.get_by_role("link", name="import your listening")).to_be_visible()
    expect(page.locator("figure.chart")).to_have_count(0)
    page.screenshot(path=artifacts_dir / "insights-empty-phone.png", full_page=True)


@pytest.fixture(scope="module")
def newcomer(django_db_setup, django_db_blocker) -> Iterator[str]:
    from accounts.models import User

    username = f"e2e-new-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        user = User.objects.create_user(username, f"{username}@example.com")
        user.password = server_password_hash(PASSWORD)
        user.save(update_fields=["password"])
    yield username
    with django_db_blocker.unblock():
        User.objects.filter(pk=user.pk).delete()


@pytest.fixture(scope="module")
def light_listener(django_db_setup, django_db_blocker) -> Iterator[str]:
    """A listener with three plays (two of one track, one of another): small counts, where
    Chart.js' own ticks would be 0, 0.2, 0.4 …"""
    from accounts.models import User
    from catalog.models import Track
    from history.services.interactions import interaction_record

    username = f"e2e-light-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        user = User.objects.create_user(username, f"{username}@example.com")
        user.password = server_password_hash(PASSWORD)
        user.save(update_fields=["password"])
        first, second = Track.objects.filter(genres__isnull=False).distinct().order_by("id")[:2]
        for track in (first, first, second):
            interaction_record(user=user, track_id=track.pk, kind="play")
    yield username
    with django_db_blocker.unblock():
        User.objects.filter(pk=user.pk).delete()


def test_count_axes_tick_in_whole_numbers(
    page: Page, light_listener: str, artifacts_dir: Path
) -> None:
    _open(page, light_listener)
    expect(page.locator("#chart-top-tracks[data-drawn]")).to_have_count(1)

    # the value axis of every count chart (hbar: x, bar and line: y) and of no share chart
    ticks = page.evaluate(
        """() => Object.fromEntries(["days", "hours", "top-artists", "top-tracks", "genre-trend"]
            .map((key) => {
                const figure = document.getElementById("chart-" + key);
                const chart = Chart.getChart(figure.querySelector("canvas"));
                const axis = chart.options.indexAxis === "y" ? chart.scales.x : chart.scales.y;
                return [key, axis.ticks.map((t) => t.value)];
            }))"""
    )
    for key in ("days", "hours", "top-artists", "top-tracks"):
        assert ticks[key] and all(float(v).is_integer() for v in ticks[key]), (key, ticks[key])
        assert max(ticks[key]) >= 2, (key, ticks[key])
    # shares keep their fractions (0 %, 20 % … 100 %)
    assert any(not float(v).is_integer() for v in ticks["genre-trend"]), ticks["genre-trend"]
    page.screenshot(path=artifacts_dir / "insights-few-plays.png", full_page=True)


def test_on_a_phone_a_long_series_name_is_shortened_in_the_legend_only(
    page: Page, light_listener: str
) -> None:
    """The staff dashboard's popular tracks name each line "title — artists": at 390 px a long
    one ran off the screen. The legend shows its start; the data keep the whole name."""
    page.set_viewport_size(PHONE)
    _open(page, light_listener)
    expect(page.locator("#chart-top-tracks[data-drawn]")).to_have_count(1)
    long_name = "Running Up That Hill (A Deal With God) - 2018 Remaster — Kate Bush"

    # a chart of the same kind as the dashboard's, drawn by the page's own script
    page.evaluate(
        """(name) => {
            const spec = {kind: "line", format: "count", labels: ["Week 1", "Week 2"],
                          series: [{label: name, values: [1, 2]},
                                   {label: "Short", values: [2, 1]}]};
            const figure = document.createElement("figure");
            figure.className = "chart";
            figure.id = "chart-long";
            figure.setAttribute("data-chart", "chart-long-data");
            figure.innerHTML = '<div class="chart-canvas" hidden><canvas></canvas></div>';
            const data = document.createElement("script");
            data.type = "application/json";
            data.id = "chart-long-data";
            data.textContent = JSON.stringify(spec);
            document.querySelector("main").append(data, figure);
            window.musicrecCharts.drawAll();
        }""",
        long_name,
    )
    expect(page.locator("#chart-long[data-drawn]")).to_have_count(1)

    drawn = page.evaluate(
        """() => {
            const chart = Chart.getChart(document.querySelector("#chart-long canvas"));
            return {legend: chart.legend.legendItems.map((i) => i.text),
                    data: chart.data.datasets.map((d) => d.label)};
        }"""
    )
    assert drawn["data"] == [long_name, "Short"]
    assert drawn["legend"][1] == "Short"
    assert drawn["legend"][0].endswith("…") and long_name.startswith(drawn["legend"][0][:-1])
    assert len(drawn["legend"][0]) <= 40
