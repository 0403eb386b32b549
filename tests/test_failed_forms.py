"""A page form that fails (issue #9, 15) shows its message at the top of the page, in the
messages area, and next to its field; the address the browser is left on still answers a GET
(a redirect to the form's page), never an empty 405."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Track
from history.models import HISTORY_LIMIT, HistoryEntry, ListenImport
from history.services.entries import history_entries_add
from history.services.imports import listen_import_create, listen_import_process

FIXTURES = Path(__file__).parent / "history" / "fixtures"

pytestmark = pytest.mark.django_db


def _top_messages(response) -> str:
    """The text of the messages area, which must come before the page's heading."""
    page = response.content.decode()
    area = re.search(r'<ul class="messages">(.*?)</ul>', page, re.DOTALL)
    assert area is not None, "no messages area"
    assert area.start() < page.index("<h1"), "the messages are not at the top"
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", area.group(1)))


def _revisited(client, response, *, expected_page: str):
    """A GET of the address the failed POST left the browser on, redirects followed."""
    answer = client.get(response.wsgi_request.path, follow=True)
    assert answer.status_code == 200
    assert answer.redirect_chain[-1][0] == expected_page
    return answer


def test_clearing_without_the_confirmation(listener, listener_web):
    history_entries_add(
        user=listener, track_ids=list(Track.objects.values_list("id", flat=True)[:3])
    )

    response = listener_web.post("/history/clear/", {})

    assert response.status_code == 400
    assert "Your history was not cleared." in _top_messages(response)
    assert "Tick the box to confirm" in _top_messages(response)
    field = re.search(
        r'<div class="field field-check invalid">.*?</div>', response.content.decode(), re.DOTALL
    )
    assert field is not None and "Tick the box to confirm" in field.group(0)
    _revisited(listener_web, response, expected_page="/history/#clear")
    assert HistoryEntry.objects.filter(user=listener).count() == 3


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({}, "This field is required."),
        ({"file": SimpleUploadedFile("notes.txt", b"nonsense\n")}, "Unknown file format."),
    ],
    ids=["no-file", "unknown-format"],
)
def test_the_upload_form(listener_web, data, reason):
    response = listener_web.post("/history/imports/upload/", data)

    assert response.status_code == 400
    top = _top_messages(response)
    assert "Your file was not imported." in top
    assert f"Export file: {reason}" in top
    assert reason in response.content.decode().split('id="upload-title"', 1)[1]  # by the field
    _revisited(listener_web, response, expected_page="/history/imports/")
    assert not ListenImport.objects.exists()


def test_the_profile_about_form(listener, listener_web):
    response = listener_web.post(
        "/accounts/profile/about/", {"age": "7", "country": "XX", "time_zone": "Europe/Berlin"}
    )

    assert response.status_code == 200
    top = _top_messages(response)
    assert top.strip().startswith("Nothing was saved.")
    assert "Age:" in top
    assert "Country:" in top
    assert "XX is not the two-letter ISO 3166-1 code" in top
    _revisited(listener_web, response, expected_page="/accounts/profile/#about")
    listener.refresh_from_db()
    assert (listener.age, listener.country) == (None, "")


# ------------------------------------------------------------------------------------ 17
def _done_import(user) -> ListenImport:
    upload = SimpleUploadedFile("scrobbles.csv", (FIXTURES / "lastfm_header.csv").read_bytes())
    listen_import = listen_import_create(user=user, file=upload, enqueue=False)
    return listen_import_process(import_id=listen_import.pk)


def test_a_full_history_is_said_on_the_imports_page_instead_of_an_add_button(
    listener, listener_web
):
    # given an import offering its tracks, and a history filled up since
    listen_import = _done_import(listener)
    assert listen_import.offered_track_ids
    others = Track.objects.exclude(pk__in=listen_import.offered_track_ids).values_list(
        "id", flat=True
    )
    history_entries_add(user=listener, track_ids=list(others[:HISTORY_LIMIT]))
    # when
    html = listener_web.get("/history/imports/").content.decode()
    # then
    article = html.split(f'id="import-{listen_import.pk}"', 1)[1]
    assert "Your history is full (50/50)" in article
    assert 'href="/history/">Go to your history</a>' in article
    assert "Add to history" not in html
    assert f'action="/history/imports/{listen_import.pk}/offer/"' not in html


def test_with_room_the_offer_keeps_its_add_button(listener, listener_web):
    listen_import = _done_import(listener)

    html = listener_web.get("/history/imports/").content.decode()

    assert "Add to history" in html
    assert f'action="/history/imports/{listen_import.pk}/offer/"' in html
    assert "Your history is full" not in html


# ------------------------------------------------------------------------------------ 1: rate
def test_the_upload_page_has_the_apis_rate_and_counter(listener_web, listener_api, throttle_rates):
    throttle_rates(imports="3/hour")
    csv = (FIXTURES / "lastfm_header.csv").read_bytes()

    def page() -> object:
        file = SimpleUploadedFile("s.csv", csv)
        return listener_web.post("/history/imports/upload/", {"file": file})

    def api() -> int:
        file = SimpleUploadedFile("s.csv", csv)
        return listener_api.post("/api/v1/imports/", {"file": file}, format="multipart")

    answers = [page(), page(), api(), page(), api()]

    assert [a.status_code for a in answers] == [302, 302, 202, 429, 429]
    assert "Please wait 60 minutes and try again." in _top_messages(answers[3])
    assert ListenImport.objects.count() == 3
