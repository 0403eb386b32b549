"""History, interactions, opinions and listening imports in the admin: read-only pages for
curators, with filters and search, in a constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Track
from history.models import HistoryEntry, Interaction, ListenImport, Opinion
from tests.accounts.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

MODELS = ("historyentry", "interaction", "opinion", "listenimport")
SECRET = b"SECRET-UPLOAD-BYTES artist,title,when"


def _tracks(count: int) -> list[Track]:
    return list(Track.objects.order_by("id")[:count])


def _fill(user, count: int, *, offset: int = 0) -> None:
    """``count`` rows of every kind for ``user`` (tracks of the demo catalog)."""
    now = timezone.now()
    tracks = _tracks(offset + count)[offset:]
    listen_import = ListenImport.objects.create(
        user=user, format="lastfm", file_name=f"{user.username}.csv", data=SECRET, status="done"
    )
    for n, track in enumerate(tracks):
        HistoryEntry.objects.create(user=user, track=track, slot=offset + n + 1)
        Interaction.objects.create(
            user=user,
            track=track,
            kind="skip" if n % 2 else "play",
            occurred_at=now - dt.timedelta(days=n),
            listen_import=listen_import if n % 3 == 0 else None,
        )
        Opinion.objects.create(user=user, track=track, value="like" if n % 2 else "dislike")
    for n in range(count - 1):
        ListenImport.objects.create(
            user=user, format="spotify", file_name=f"more-{n}.json", data=SECRET
        )


def _changelist(model: str) -> str:
    return reverse(f"admin:history_{model}_changelist")


@pytest.fixture
def history_curator():
    """Staff with every history permission: the admin must still refuse every change."""
    curator = StaffFactory(username="history-curator")
    curator.user_permissions.set(Permission.objects.filter(content_type__app_label="history"))
    return curator


@pytest.fixture
def history_web(history_curator) -> Client:
    web = Client()
    web.force_login(history_curator)
    return web


@pytest.fixture
def ada():
    user = UserFactory(username="ada-history")
    _fill(user, 4)
    return user


@pytest.mark.parametrize("model", MODELS)
def test_curators_list_and_view_every_history_model(history_web, ada, model):
    # given
    obj = (
        {
            "historyentry": HistoryEntry,
            "interaction": Interaction,
            "opinion": Opinion,
            "listenimport": ListenImport,
        }[model]
        .objects.filter(user=ada)
        .first()
    )

    # when
    listed = history_web.get(_changelist(model))
    viewed = history_web.get(reverse(f"admin:history_{model}_change", args=[obj.pk]))

    # then
    assert listed.status_code == 200
    assert len(listed.context["cl"].result_list) >= 4
    assert viewed.status_code == 200
    assert "ada-history" in viewed.content.decode()


@pytest.mark.parametrize("model", MODELS)
def test_nobody_adds_changes_or_deletes_in_the_admin(history_web, superuser_web, ada, model):
    obj_id = (
        {
            "historyentry": HistoryEntry,
            "interaction": Interaction,
            "opinion": Opinion,
            "listenimport": ListenImport,
        }[model]
        .objects.filter(user=ada)
        .values_list("pk", flat=True)
        .first()
    )
    before = {m: c.objects.count() for m, c in (("i", Interaction), ("h", HistoryEntry))}
    for web in (history_web, superuser_web):
        # when
        listed = web.get(_changelist(model)).content.decode()
        viewed = web.get(reverse(f"admin:history_{model}_change", args=[obj_id]))
        added = web.post(reverse(f"admin:history_{model}_add"), {})
        changed = web.post(reverse(f"admin:history_{model}_change", args=[obj_id]), {})
        deleted = web.post(reverse(f"admin:history_{model}_delete", args=[obj_id]), {"post": "yes"})
        bulk = web.post(
            _changelist(model),
            {"action": "delete_selected", "_selected_action": [obj_id], "post": "yes"},
        )

        # then
        assert (added.status_code, changed.status_code, deleted.status_code) == (403, 403, 403)
        assert reverse(f"admin:history_{model}_add") not in listed
        assert "delete_selected" not in listed
        page = viewed.content.decode()
        assert viewed.status_code == 200
        assert 'name="_save"' not in page and "deletelink" not in page
        assert bulk.status_code in (200, 302)
    assert {m: c.objects.count() for m, c in (("i", Interaction), ("h", HistoryEntry))} == before
    assert ListenImport.objects.filter(user=ada).count() == 4


def test_staff_without_the_view_permission_see_no_listening_data(curator_web, ada):
    for model in MODELS:
        assert curator_web.get(_changelist(model)).status_code == 403
    apps = curator_web.get(reverse("admin:index")).context["app_list"]
    assert "history" not in [app["app_label"] for app in apps]


@pytest.mark.parametrize("model", MODELS)
def test_list_pages_run_a_constant_number_of_queries(history_web, model):
    # given
    listener = UserFactory(username="many-history")
    _fill(listener, 3)
    url = f"{_changelist(model)}?q=many-history"
    with CaptureQueriesContext(connection) as few:
        assert len(history_web.get(url).context["cl"].result_list) == 3
    _fill(listener, 30, offset=3)

    # when
    with CaptureQueriesContext(connection) as many:
        response = history_web.get(url)

    # then
    assert len(response.context["cl"].result_list) >= 30
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_an_imports_uploaded_bytes_are_never_loaded_or_shown(history_web, ada):
    # given
    listen_import = ListenImport.objects.get(user=ada, format="lastfm")

    # when
    with CaptureQueriesContext(connection) as queries:
        listed = history_web.get(_changelist("listenimport"))
        viewed = history_web.get(
            reverse("admin:history_listenimport_change", args=[listen_import.pk])
        )
        events = history_web.get(_changelist("interaction"))

    # then
    for response in (listed, viewed, events):
        assert response.status_code == 200
        assert "SECRET-UPLOAD-BYTES" not in response.content.decode()
    assert not any('"data"' in query["sql"] for query in queries.captured_queries)
    assert "ada-history.csv" in viewed.content.decode()


def test_filters_by_kind_status_and_date_and_search_by_listener_and_title(history_web, ada):
    # given
    bob = UserFactory(username="bob-history")
    _fill(bob, 2, offset=10)
    title = Track.objects.order_by("id")[10].title
    today = timezone.localdate()
    midnight = timezone.make_aware(dt.datetime.combine(today, dt.time()))

    # when
    skips = history_web.get(_changelist("interaction"), {"kind__exact": "skip"})
    recent = history_web.get(
        _changelist("interaction"),
        {  # the filter's "Today" link
            "occurred_at__gte": str(midnight),
            "occurred_at__lt": str(midnight + dt.timedelta(days=1)),
        },
    )
    done = history_web.get(_changelist("listenimport"), {"status__exact": "done"})
    by_user = history_web.get(_changelist("historyentry"), {"q": "bob-hist"})
    by_title = history_web.get(_changelist("opinion"), {"q": title})

    # then
    assert {e.kind for e in skips.context["cl"].result_list} == {"skip"}
    assert {e.occurred_at.date() for e in recent.context["cl"].result_list} <= {today}
    assert len(recent.context["cl"].result_list) == 2  # one today for each listener
    assert {i.status for i in done.context["cl"].result_list} == {"done"}
    assert {e.user.username for e in by_user.context["cl"].result_list} == {"bob-history"}
    assert title in {o.track.title for o in by_title.context["cl"].result_list}
