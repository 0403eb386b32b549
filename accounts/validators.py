"""The one definition of what a listener's demographics may hold.

Used by the model fields (so the web forms, the admin and the services all validate through
``full_clean``), by the API serializers and by the database constraints in ``models.py``.
"""

from __future__ import annotations

import math
import zoneinfo
from functools import cache

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.deconstruct import deconstructible
from django_countries import countries

AGE_MIN, AGE_MAX = 13, 100

#: A listener's default discovery (0 familiar … 1 new): the engine as evaluated.
DISCOVERY_DEFAULT = 0.5


def validate_discovery(value: float) -> None:
    """A discovery is a finite number from 0 to 1 (NaN passes every comparison: refused
    here, not by the database's check constraint)."""
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValidationError("Discovery is a number from 0 (familiar) to 1 (new).", code="range")


USERNAME_HELP_TEXT = "Up to 150 letters, digits and . + - _ (no @)."


@deconstructible
class UsernameValidator(UnicodeUsernameValidator):
    """Django's username characters without ``@``: listeners sign in with a username *or* an
    e-mail address, so a username that is someone else's address would take their sign-in."""

    regex = r"^[\w.+-]+\Z"
    message = (
        "Enter a valid username: letters, digits and . + - _ only. It cannot contain @, so "
        "that it can never be mistaken for an e-mail address."
    )


class Gender(models.TextChoices):
    MALE = "M", "Male"
    FEMALE = "F", "Female"
    NON_BINARY = "NB", "Non-binary"
    OTHER = "O", "Other"


class Occupation(models.TextChoices):
    STUDENT = "student", "Student"
    ENGINEER = "engineer", "Engineer"
    TEACHER = "teacher", "Teacher"
    HEALTHCARE = "healthcare", "Healthcare"
    ARTIST = "artist", "Artist"
    SCIENTIST = "scientist", "Scientist"
    SALES = "sales", "Sales"
    SERVICE = "service", "Service"
    TRADES = "trades", "Trades"
    MANAGEMENT = "management", "Management"
    OFFICE = "office", "Office and administration"
    RETIRED = "retired", "Retired"
    UNEMPLOYED = "unemployed", "Unemployed"
    OTHER = "other", "Other"


class Mood(models.TextChoices):
    HAPPY = "happy", "Happy"
    SAD = "sad", "Sad"
    CALM = "calm", "Calm"
    ENERGETIC = "energetic", "Energetic"


class Activity(models.TextChoices):
    EXERCISE = "exercise", "Exercise"
    RELAX = "relax", "Relax"
    PARTY = "party", "Party"
    FOCUS = "focus", "Focus"
    COMMUTE = "commute", "Commute"


# (label, lowest age, highest age or None): what the demographic predictor groups listeners by.
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("13-17", 13, 17),
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, None),
)


def age_band(age: int | None) -> str | None:
    if age is None:
        return None
    for label, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return label
    return None


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes of real countries (django-countries' list, no user-assigned
    codes such as XX)."""
    return frozenset(code for code, _ in countries)


def normalise_country(value: str | None) -> str:
    """``" us "`` → ``"US"``; anything else is returned as typed, for the validator to judge."""
    return (value or "").strip().upper() if len((value or "").strip()) == 2 else (value or "")


def validate_country(value: str) -> None:
    """Strict: exactly a two-letter code of a real country. ``USA``, ``840`` and ``XX`` are
    refused (some library fields quietly convert alpha-3 or numeric codes; we do not)."""
    if value and value not in country_codes():
        raise ValidationError(
            "%(value)s is not the two-letter ISO 3166-1 code of a country (e.g. US, DE).",
            code="invalid_country",
            params={"value": value},
        )


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            "%(value)s is not a time zone name such as Europe/Berlin.",
            code="invalid_time_zone",
            params={"value": value},
        )


class CountryCodeField(models.CharField):
    """A two-letter country code, upper-cased on the way in, validated strictly."""

    default_validators = [validate_country]

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("max_length", 2)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        return normalise_country(super().to_python(value))

    def formfield(self, **kwargs):
        # No form-level length limit either: "USA" gets the country message, not a length one.
        return super().formfield(**{"max_length": None, **kwargs})

    @property
    def validators(self):
        # validate_country already limits the value to two letters; the length validator
        # CharField adds would only repeat that in vaguer words ("at most 2 characters").
        return [*self.default_validators, *self._validators]
