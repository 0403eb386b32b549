from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from accounts.validators import (
    AGE_MAX,
    AGE_MIN,
    DISCOVERY_DEFAULT,
    USERNAME_HELP_TEXT,
    Activity,
    CountryCodeField,
    Gender,
    Mood,
    Occupation,
    UsernameValidator,
    age_band,
    validate_discovery,
    validate_time_zone,
)
from musicrec.constraints import choices_constraint


class ListenerManager(UserManager):
    def get_by_natural_key(self, username: str):
        # Sign-in is case-insensitive (the constraints below keep that unambiguous).
        return self.get(username__iexact=username)


def _choice_constraint(field: str, choices: type[models.TextChoices]) -> models.CheckConstraint:
    return choices_constraint(
        field=field, choices=choices, name=f"accounts_user_{field}_valid", blank=True
    )


class User(AbstractUser):
    """A listener (any active user); staff users are the catalog's curators.

    Usernames and e-mail addresses are unique regardless of case, and a username never holds
    an ``@`` (it could be someone else's e-mail address, see UsernameValidator). Demographics
    are optional and validated by the field validators (see accounts.validators) and by the
    constraints.
    """

    # AbstractUser's username without "@" (see UsernameValidator).
    username = models.CharField(
        "username",
        max_length=150,
        unique=True,
        help_text=USERNAME_HELP_TEXT,
        validators=[UsernameValidator()],
        error_messages={"unique": "A user with that username already exists."},
    )
    email = models.EmailField("e-mail address", blank=True)

    # Demographics (all optional; blank clears).
    age = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(AGE_MIN), MaxValueValidator(AGE_MAX)]
    )
    gender = models.CharField(max_length=2, blank=True, default="", choices=Gender.choices)
    country = CountryCodeField(help_text="Two-letter ISO 3166-1 code, e.g. US or DE.")
    occupation = models.CharField(max_length=20, blank=True, default="", choices=Occupation.choices)
    time_zone = models.CharField(
        max_length=64, default=settings.TIME_ZONE, validators=[validate_time_zone]
    )

    # Current listening context.
    mood = models.CharField(max_length=10, blank=True, default="", choices=Mood.choices)
    activity = models.CharField(max_length=10, blank=True, default="", choices=Activity.choices)
    context_updated_at = models.DateTimeField(null=True, blank=True)
    # How far the recommendations lean from familiar (0: close to the history, popular) to new
    # (1: less played, further from the history, new artists); 0.5 is the engine as evaluated.
    # A request may override it (``?discovery=``).
    discovery = models.FloatField(
        default=DISCOVERY_DEFAULT,
        validators=[validate_discovery],
        help_text="0 familiar … 1 new; 0.5 balanced.",
    )

    # When the listener finished (or skipped) onboarding; null: not offered yet.
    onboarded_at = models.DateTimeField(null=True, blank=True)

    objects = ListenerManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with that e-mail address already exists.",
            ),
            models.CheckConstraint(
                condition=Q(age__isnull=True) | Q(age__gte=AGE_MIN, age__lte=AGE_MAX),
                name="accounts_user_age_range",
            ),
            models.CheckConstraint(
                condition=Q(country="") | Q(country__regex=r"^[A-Z]{2}$"),
                name="accounts_user_country_code",
            ),
            _choice_constraint("gender", Gender),
            _choice_constraint("occupation", Occupation),
            _choice_constraint("mood", Mood),
            _choice_constraint("activity", Activity),
            models.CheckConstraint(
                condition=Q(discovery__gte=0.0, discovery__lte=1.0),
                name="accounts_user_discovery_range",
            ),
        ]
        indexes = [
            models.Index(fields=["country", "gender", "age"], name="accounts_user_demo_idx"),
        ]

    @property
    def age_band(self) -> str | None:
        return age_band(self.age)


class PreferenceKind(models.TextChoices):
    PREFERRED = "preferred", "Preferred"
    DISLIKED = "disliked", "Disliked"


class GenrePreference(models.Model):
    """A listener likes or dislikes a genre. One row per (listener, genre), so a genre cannot
    be both preferred and disliked."""

    Kind = PreferenceKind

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="genre_preferences")
    genre = models.ForeignKey("catalog.Genre", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "genre__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "genre"], name="accounts_genrepref_unique"),
            choices_constraint(
                field="kind", choices=PreferenceKind, name="accounts_genrepref_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} {self.genre}"


class ArtistBlock(models.Model):
    """ "Not interested in this artist": a blocked artist's tracks never come back in the
    listener's recommendations (any list, any source)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="artist_blocks")
    artist = models.ForeignKey("catalog.Artist", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "artist"], name="accounts_artistblock_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} blocks {self.artist_id}"


from accounts.sessions import ListenerSession  # noqa: E402,F401  (a model of this app)
