"""The staff report of a ranking experiment in a browser: on a phone (390 px) nothing scrolls
sideways and the verdict, the intervals (as numbers) and their bars are there; the outcomes
table scrolls inside its own box.

No ORM in the test bodies (see ``tests/e2e/conftest.py``): a curator and an experiment with
served lists and feedback on tracks of the shared catalog are committed by a module fixture
before Playwright starts, and deleted after it stopped.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import server_password_hash, sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-Experiments-4242"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def report(django_db_setup, django_db_blocker) -> Iterator[tuple[str, int]]:
    from django.utils import timezone

    from accounts.models import User
    from catalog.models import Track
    from history.models import Interaction
    from recommendations.models import Experiment, ExperimentVariant, Impression

    tag = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock():
        curator = User.objects.create_user(f"e2e-exp-{tag}", f"e2e-exp-{tag}@example.com")
        curator.is_staff = True
        curator.password = server_password_hash(PASSWORD)
        curator.save(update_fields=["is_staff", "password"])
        experiment = Experiment.objects.create(
            name=f"A fairly long experiment name to wrap on a phone {tag}",
            starts_at=timezone.now() - dt.timedelta(days=2),
        )
        ExperimentVariant.objects.create(experiment=experiment, key="control", name="Control")
        ExperimentVariant.objects.create(
            experiment=experiment,
            key="more-content",
            name="More content",
            parameters={"weights": {"content": 0.4, "collaborative": 0.8}, "relevance": 0.8},
        )
        tracks = list(Track.objects.order_by("id")[:4])
        listeners = []
        for index in range(6):
            listener = User.objects.create_user(f"e2e-exp-{tag}-{index}")
            listeners.append(listener)
            served = Impression.objects.create(
                user=listener,
                surface="web",
                served_at=timezone.now() - dt.timedelta(hours=3),
                experiment=experiment,
                variant="control" if index % 2 else "more-content",
                items=[
                    {"track_id": t.pk, "position": i + 1, "score": 0.5, "sources": {}}
                    for i, t in enumerate(tracks)
                ],
            )
            for track in tracks[: 1 + index % 3]:
                Interaction.objects.create(
                    user=listener,
                    track=track,
                    kind="play",
                    occurred_at=served.served_at + dt.timedelta(minutes=1),
                    impression_id=served.pk,
                )
    yield curator.username, experiment.pk
    with django_db_blocker.unblock():
        User.objects.filter(pk__in=[curator.pk, *(u.pk for u in listeners)]).delete()
        experiment.delete()


def test_the_report_reads_on_a_phone(page, report):
    username, experiment_id = report
    page.set_viewport_size(PHONE)
    path = f"/staff/experiments/{experiment_id}/"
    sign_in(page, username, PASSWORD, next_path=path, lands_on=re.escape(path) + "$")
    expect(page.get_by_role("heading", level=1)).to_contain_text("A fairly long experiment")
    expect(page.locator(".verdict")).to_contain_text("Not enough data yet")
    table = page.locator(".outcomes-table")
    expect(table).to_contain_text("Control")
    expect(table).to_contain_text(re.compile(r"\d+\.\d % \(\d+\.\d %–\d+\.\d %\)"))
    bars = page.locator(".interval-bars li")
    expect(bars).to_have_count(3)  # two click-through intervals, one difference
    expect(bars.first.locator(".interval-text")).to_be_visible()
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], f"the page scrolls sideways: {scroll_width}"
    # the list links to it
    page.goto("/staff/experiments/")
    page.get_by_role("link", name=re.compile("A fairly long experiment")).click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
