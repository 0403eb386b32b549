"""Listeners in the admin."""

from __future__ import annotations

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def listeners(django_user_model):
    young = django_user_model.objects.create_user(
        "young", "young@example.com", "pw-Young-4242", age=19, country="DE", gender="F"
    )
    old = django_user_model.objects.create_user(
        "old", "old@example.com", "pw-Old-424242", age=70, country="US", occupation="retired"
    )
    return young, old


def test_staff_see_listeners_filtered_by_age_band_and_country(client, superuser, listeners):
    client.force_login(superuser)

    by_band = client.get("/admin/accounts/user/", {"age_band": "18-24"})
    by_country = client.get("/admin/accounts/user/", {"country": "US"})

    assert by_band.status_code == 200
    assert [u.username for u in by_band.context["cl"].result_list] == ["young"]
    assert [u.username for u in by_country.context["cl"].result_list] == ["old"]


def test_change_page_shows_demographics_but_no_password(client, superuser, listeners):
    young, _ = listeners
    client.force_login(superuser)

    html = client.get(f"/admin/accounts/user/{young.pk}/change/").content.decode()

    assert "Demographics" in html
    assert 'name="country"' in html
    assert "pbkdf2" not in html
    assert young.password not in html
    assert 'name="password"' not in html


def test_admin_uses_the_same_strict_country_validation(client, superuser, listeners):
    young, _ = listeners
    client.force_login(superuser)
    url = f"/admin/accounts/user/{young.pk}/change/"
    form = {
        "username": "young",
        "email": "young@example.com",
        "is_active": "on",
        "age": "19",
        "gender": "F",
        "occupation": "",
        "time_zone": "UTC",
        "mood": "",
        "activity": "",
        "genre_preferences-TOTAL_FORMS": "0",
        "genre_preferences-INITIAL_FORMS": "0",
        "is_staff": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }

    refused = client.post(url, {**form, "country": "USA"})
    accepted = client.post(url, {**form, "country": "fr"})

    assert refused.status_code == 200
    assert "is not the two-letter ISO 3166-1 code" in refused.content.decode()
    assert accepted.status_code == 302, accepted.content.decode()[:2000]
    assert User.objects.get(pk=young.pk).country == "FR"


def test_non_staff_cannot_reach_the_admin(client, listeners):
    young, _ = listeners
    client.force_login(young)

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
