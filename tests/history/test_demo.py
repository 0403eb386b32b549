"""Demo listeners: ``manage.py seed_demo`` is idempotent and its listeners look plausible."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from accounts.models import GenrePreference, User
from history.models import HistoryEntry, Interaction, Opinion
from musicrec.demo import DEMO_EMAIL_DOMAIN, DEMO_SIGNIN_USERNAME, demo_listeners


def _counts() -> tuple[int, ...]:
    return (
        User.objects.count(),
        GenrePreference.objects.count(),
        HistoryEntry.objects.count(),
        Interaction.objects.count(),
        Opinion.objects.count(),
    )


def _seed(tmp_path, listeners: int = 5) -> str:
    out = StringIO()
    call_command(
        "seed_demo",
        "--listeners",
        str(listeners),
        "--no-progress",
        "--password-file",
        str(tmp_path / "demo-password.txt"),
        stdout=out,
    )
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_is_idempotent(tmp_path):
    # given
    first = _seed(tmp_path)
    counts = _counts()
    password = (tmp_path / "demo-password.txt").read_text().strip()
    # when
    second = _seed(tmp_path)
    # then
    assert _counts() == counts
    assert "6 created" in first and "0 created, 6 already there" in second
    assert f"password {password!r}" in second
    # more listeners later: only the missing ones are added
    _seed(tmp_path, listeners=7)
    assert demo_listeners().count() == 8


@pytest.mark.django_db
def test_demo_listeners_are_marked_and_plausible(tmp_path):
    _seed(tmp_path)
    listeners = list(demo_listeners().order_by("username"))
    assert [u.username for u in listeners] == [
        DEMO_SIGNIN_USERNAME,
        *(f"demo-{n:04d}" for n in range(1, 6)),
    ]
    password = (tmp_path / "demo-password.txt").read_text().strip()
    for listener in listeners:
        assert listener.email.endswith(f"@{DEMO_EMAIL_DOMAIN}")
        assert listener.has_usable_password() == (listener.username == DEMO_SIGNIN_USERNAME)
        assert listener.age and listener.gender and listener.country and listener.occupation
        listener.full_clean()  # every generated value passes the model validators
        prefs = GenrePreference.objects.filter(user=listener)
        assert 2 <= prefs.filter(kind="preferred").count() <= 4
        assert 1 <= prefs.filter(kind="disliked").count() <= 2
        assert 10 <= HistoryEntry.objects.filter(user=listener).count() <= 50
        kinds = dict(
            Interaction.objects.filter(user=listener)
            .values_list("kind")
            .annotate(n=Count("id"))
            .values_list("kind", "n")
        )
        assert kinds.get("play", 0) > 20
        assert sum(kinds.values()) >= 60
    assert User.objects.get(username=DEMO_SIGNIN_USERNAME).check_password(password)
    assert Interaction.objects.filter(kind="skip").exists()
    assert Opinion.objects.filter(user__in=listeners).exists()


@pytest.mark.django_db
def test_demo_listeners_are_deterministic(tmp_path):
    _seed(tmp_path, listeners=3)
    first = list(
        Interaction.objects.filter(user__username="demo-0002")
        .order_by("occurred_at", "id")
        .values_list("track_id", "kind")
    )
    history = set(
        HistoryEntry.objects.filter(user__username="demo-0002").values_list("track_id", flat=True)
    )
    User.objects.filter(username__startswith="demo").delete()
    _seed(tmp_path, listeners=3)
    assert (
        list(
            Interaction.objects.filter(user__username="demo-0002")
            .order_by("occurred_at", "id")
            .values_list("track_id", "kind")
        )
        == first
    )
    assert (
        set(
            HistoryEntry.objects.filter(user__username="demo-0002").values_list(
                "track_id", flat=True
            )
        )
        == history
    )


@pytest.mark.django_db
def test_seed_demo_refuses_a_bad_count(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        _seed(tmp_path, listeners=-1)
    assert not demo_listeners().exists()


@pytest.mark.django_db
def test_the_demo_listener_signs_in_to_the_home_page_not_onboarding(tmp_path, client):
    # given
    _seed(tmp_path, listeners=1)
    password = (tmp_path / "demo-password.txt").read_text().strip()

    # when
    response = client.post(
        "/accounts/login/", {"username": DEMO_SIGNIN_USERNAME, "password": password}
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not demo_listeners().filter(onboarded_at__isnull=True).exists()


@pytest.mark.django_db
def test_seeding_again_marks_demo_listeners_of_older_seeds_as_onboarded(tmp_path):
    # given: listeners seeded before demo listeners were marked as onboarded
    _seed(tmp_path, listeners=2)
    demo_listeners().update(onboarded_at=None)
    ordinary = User.objects.create_user("someone", "someone@example.com", "pw-Some-123456")

    # when
    _seed(tmp_path, listeners=2)
    marked = dict(demo_listeners().values_list("username", "onboarded_at"))
    _seed(tmp_path, listeners=2)

    # then
    assert len(marked) == 3 and all(marked.values())
    assert dict(demo_listeners().values_list("username", "onboarded_at")) == marked
    ordinary.refresh_from_db()
    assert ordinary.onboarded_at is None
