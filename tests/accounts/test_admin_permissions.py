"""Only superusers change staff and superuser accounts, and any password, in the admin.

A curator (staff, not superuser) with the "change user" permission corrects listeners' data;
without this rule the same permission let them set an administrator's e-mail address or password
and take the account over.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from accounts.models import User
from tests.accounts.factories import PASSWORD, StaffFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Taken-0ver-pw"


@pytest.fixture
def curator_web(curator, curator_web):
    """The curator, allowed to view, change and delete users."""
    curator.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user", "delete_user"])
    )
    return curator_web


def _change_form(user: User, **changes) -> dict:
    form = {
        "username": user.username,
        "email": user.email,
        "is_active": "on",
        "age": "",
        "gender": "",
        "country": "",
        "occupation": "",
        "time_zone": "UTC",
        "mood": "",
        "activity": "",
        "genre_preferences-TOTAL_FORMS": "0",
        "genre_preferences-INITIAL_FORMS": "0",
    }
    if user.is_staff:
        form["is_staff"] = "on"
    if user.is_superuser:
        form["is_superuser"] = "on"
    return {**form, **changes}


def _password_form() -> dict:
    return {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}


def test_a_curator_cannot_change_a_superusers_e_mail_address(curator_web, superuser):
    # when
    response = curator_web.post(
        f"/admin/accounts/user/{superuser.pk}/change/",
        _change_form(superuser, email="curator-owns-this@example.com"),
    )

    # then
    assert response.status_code == 403
    assert User.objects.get(pk=superuser.pk).email == "admin@example.com"


def test_a_curator_cannot_change_another_staff_account(curator_web):
    colleague = StaffFactory(username="colleague", email="colleague@example.com")

    response = curator_web.post(
        f"/admin/accounts/user/{colleague.pk}/change/",
        _change_form(colleague, email="mine@example.com", is_active=""),
    )

    assert response.status_code == 403
    fresh = User.objects.get(pk=colleague.pk)
    assert (fresh.email, fresh.is_active) == ("colleague@example.com", True)


@pytest.mark.parametrize("target", ["superuser", "listener"])
def test_a_curator_cannot_set_anyones_password(curator_web, target, request):
    user = request.getfixturevalue(target)
    url = f"/admin/accounts/user/{user.pk}/password/"

    # when
    page = curator_web.get(url)
    posted = curator_web.post(url, _password_form())

    # then
    assert (page.status_code, posted.status_code) == (403, 403)
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_a_curator_still_corrects_a_listeners_details(curator_web, listener):
    response = curator_web.post(
        f"/admin/accounts/user/{listener.pk}/change/", _change_form(listener, country="de")
    )

    assert response.status_code == 302
    assert User.objects.get(pk=listener.pk).country == "DE"


def test_a_curator_cannot_delete_a_superuser(curator_web, superuser, listener):
    # when: the delete page, and the bulk action with a listener beside the superuser
    single = curator_web.post(f"/admin/accounts/user/{superuser.pk}/delete/", {"post": "yes"})
    bulk = curator_web.post(
        "/admin/accounts/user/",
        {
            "action": "delete_selected",
            "_selected_action": [superuser.pk, listener.pk],
            "post": "yes",
        },
    )

    # then nobody is deleted
    assert (single.status_code, bulk.status_code) == (403, 403)
    assert User.objects.filter(pk__in=[superuser.pk, listener.pk]).count() == 2


def test_a_superuser_changes_staff_accounts_and_passwords(superuser_web, curator, listener):
    # when
    changed = superuser_web.post(
        f"/admin/accounts/user/{curator.pk}/change/",
        _change_form(curator, email="curator@example.org"),
    )
    password = superuser_web.post(f"/admin/accounts/user/{listener.pk}/password/", _password_form())

    # then
    assert changed.status_code == 302, changed.content.decode()[:2000]
    assert User.objects.get(pk=curator.pk).email == "curator@example.org"
    assert User.objects.get(pk=curator.pk).is_staff
    assert password.status_code == 302
    assert User.objects.get(pk=listener.pk).check_password(NEW_PASSWORD)
