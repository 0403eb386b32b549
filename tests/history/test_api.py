"""The history API: the exact 44th–51st adds, idempotency, bad input, two listeners, auth."""

from __future__ import annotations

import pytest

from catalog.models import Track
from history.models import HISTORY_LIMIT, HistoryEntry
from history.services.entries import history_entries_add, history_entry_add

URL = "/api/v1/history/"

pytestmark = pytest.mark.django_db


def _track_ids(n: int, *, offset: int = 0) -> list[int]:
    return list(Track.objects.order_by("id").values_list("id", flat=True)[offset : offset + n])


def test_the_44th_to_51st_adds(listener_api, user):
    # given: 43 entries
    ids = _track_ids(HISTORY_LIMIT + 1)
    history_entries_add(user=user, track_ids=ids[:43])

    # when / then: one add at a time
    answers = [
        listener_api.post(URL, {"track_id": track_id}, format="json") for track_id in ids[43:50]
    ]
    assert [a.status_code for a in answers] == [201] * 7
    assert "warning" not in answers[0].json()  # the 44th
    assert answers[0].json()["count"] == 44
    assert answers[1].json()["warning"] == "5 slots remaining"  # the 45th
    assert answers[2].json()["warning"] == "4 slots remaining"
    assert answers[5].json()["warning"] == "1 slot remaining"  # the 49th
    fiftieth = answers[6].json()
    assert (fiftieth["warning"], fiftieth["count"], fiftieth["remaining"]) == (
        "0 slots remaining",
        50,
        0,
    )
    assert fiftieth["track"]["id"] == ids[49]
    assert set(fiftieth) >= {"id", "track", "slot", "added_at", "limit"}

    refused = listener_api.post(URL, {"track_id": ids[50]}, format="json")
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "history_limit_reached"
    assert (body["limit"], body["count"]) == (50, 50)
    assert body["error"]
    assert HistoryEntry.objects.filter(user=user).count() == 50
    assert not HistoryEntry.objects.filter(user=user, track_id=ids[50]).exists()


def test_re_adding_a_track_returns_the_existing_entry_even_when_full(listener_api, user):
    ids = _track_ids(HISTORY_LIMIT)
    history_entries_add(user=user, track_ids=ids)
    entry = HistoryEntry.objects.get(user=user, track_id=ids[7])

    again = listener_api.post(URL, {"track_id": ids[7]}, format="json")

    assert again.status_code == 200
    assert again.json()["id"] == entry.pk
    assert "warning" not in again.json()
    assert HistoryEntry.objects.filter(user=user).count() == 50


@pytest.mark.parametrize(
    "payload", [{}, {"track_id": "abc"}, {"track_id": -3}, {"track_id": 0}, {"track_id": 2**63}]
)
def test_a_malformed_track_id_is_a_field_error(listener_api, user, payload):
    answer = listener_api.post(URL, payload, format="json")

    assert answer.status_code == 400
    assert "track_id" in answer.json()
    assert not HistoryEntry.objects.filter(user=user).exists()


def test_an_unknown_track_is_not_found(listener_api, user):
    answer = listener_api.post(URL, {"track_id": 999_999_999}, format="json")

    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


def test_list_newest_first_with_count_limit_remaining(listener_api, user):
    ids = _track_ids(3)
    for track_id in ids:
        history_entry_add(user=user, track_id=track_id)

    body = listener_api.get(URL).json()

    assert (body["count"], body["limit"], body["remaining"]) == (3, 50, 47)
    assert [item["track"]["id"] for item in body["results"]] == ids[::-1]
    assert body["results"][0]["track"]["artists"]


def test_list_query_count_does_not_grow(listener_api, user, django_assert_max_num_queries):
    history_entries_add(user=user, track_ids=_track_ids(3))
    with django_assert_max_num_queries(10) as few:
        listener_api.get(URL)
    history_entries_add(user=user, track_ids=_track_ids(40, offset=3))
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = listener_api.get(URL, {"page_size": 50}).json()
    assert len(body["results"]) == 43


def test_remove_and_clear(listener_api, user):
    ids = _track_ids(3)
    history_entries_add(user=user, track_ids=ids)
    entry = HistoryEntry.objects.get(user=user, track_id=ids[0])

    removed = listener_api.delete(f"{URL}{entry.pk}/")
    assert removed.status_code == 200
    assert removed.json() == {"count": 2, "limit": 50, "remaining": 48}
    assert listener_api.delete(f"{URL}{entry.pk}/").status_code == 404

    cleared = listener_api.delete(URL)
    assert cleared.status_code == 200
    assert cleared.json()["count"] == 0
    assert cleared.json()["removed"] == 2
    assert not HistoryEntry.objects.filter(user=user).exists()


def test_two_listeners_cannot_touch_each_others_history(
    listener_api, user, other_listener, other_api
):
    # given: each listener has one entry
    mine, theirs = _track_ids(2)
    my_entry = history_entry_add(user=user, track_id=mine).entry
    their_entry = history_entry_add(user=other_listener, track_id=theirs).entry

    # then: the list shows only one's own
    assert [e["id"] for e in listener_api.get(URL).json()["results"]] == [my_entry.pk]
    # removing the other's entry is "not found"
    answer = listener_api.delete(f"{URL}{their_entry.pk}/")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    # adding and clearing only change one's own
    assert listener_api.post(URL, {"track_id": theirs}, format="json").status_code == 201
    assert other_api.delete(URL).status_code == 200
    assert HistoryEntry.objects.filter(user=user).count() == 2
    assert not HistoryEntry.objects.filter(user=other_listener).exists()


def test_an_entry_id_out_of_range_is_not_found(listener_api):
    assert listener_api.delete(f"{URL}{2**70}/").status_code == 404


def test_anonymous_callers_are_refused(api_client):
    ids = _track_ids(1)
    assert api_client.get(URL).status_code == 401
    assert api_client.post(URL, {"track_id": ids[0]}, format="json").status_code == 401
    assert api_client.delete(URL).status_code == 401
    assert api_client.delete(f"{URL}1/").status_code == 401
    assert not HistoryEntry.objects.exists()


def test_jwt_sign_in_works_for_the_history(api_client, user):
    token = api_client.post(
        "/api/v1/auth/token/", {"username": "listener", "password": "pw-Listen-42"}, format="json"
    ).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert api_client.post(URL, {"track_id": _track_ids(1)[0]}, format="json").status_code == 201
