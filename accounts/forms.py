"""Forms of the listener pages.

They only parse what the browser sends (a number is a number, a checkbox names a genre). What a
value may be (age 13–100, a real country, a known occupation, a genre not both liked and
disliked) is decided once, by the model fields and the services in ``accounts``; the views pass
the services' ``ValidationError``s back here with :func:`add_service_errors`, field by field.
That is why the selects below are plain ``CharField``s with a select widget rather than
``ChoiceField``s: a value the list does not offer (``us``, ``XX``) reaches the model's validator,
which stores ``us`` as ``US`` and refuses ``XX`` in the same words the API uses.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django_countries import countries

from accounts.throttling import sign_in_rate_limit
from accounts.validators import (
    AGE_MAX,
    AGE_MIN,
    USERNAME_HELP_TEXT,
    Activity,
    Gender,
    Mood,
    Occupation,
)
from catalog.models import Genre
from musicrec.errors import ApplicationError

BLANK = ("", "—")
# Region prefixes of the canonical IANA zone names; the legacy aliases (US/Eastern, Etc/GMT+5,
# …) stay valid for the model but are left out of the list people choose from.
TIME_ZONE_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@cache
def time_zone_choices() -> tuple[tuple[str, str], ...]:
    names = sorted(
        name
        for name in zoneinfo.available_timezones()
        if name.split("/", 1)[0] in TIME_ZONE_REGIONS and "/" in name
    )
    return (("UTC", "UTC"), *((name, name.replace("_", " ")) for name in names))


def country_choices() -> list[tuple[str, str]]:
    return [BLANK, *((code, name) for code, name in countries)]


class KeepValueSelect(forms.Select):
    """A select that still shows a submitted value its list does not offer (so a refused
    ``XX`` is displayed next to its error instead of silently turning into "—")."""

    def optgroups(self, name, value, attrs=None):
        groups = super().optgroups(name, value, attrs)
        offered = {str(choice) for choice, _ in self.choices}
        for missing in [v for v in value if v not in offered and v != ""]:
            groups.append(
                (None, [self.create_option(name, missing, missing, True, len(groups))], len(groups))
            )
        return groups


def _select(choices, **kwargs) -> forms.CharField:
    return forms.CharField(widget=KeepValueSelect(choices=choices), **kwargs)


def add_service_errors(
    form: forms.Form, error: ValidationError, rename: dict | None = None
) -> None:
    """Show a service's ``ValidationError`` on ``form``: each message under its field (renamed
    through ``rename``), anything the form has no field for above the form."""
    rename = rename or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages in error.message_dict.items():
        field = rename.get(name, name)
        if field == NON_FIELD_ERRORS or field not in form.fields:
            form.add_error(None, messages)
        else:
            form.add_error(field, messages)


# --------------------------------------------------------------------------- account
class SignUpForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        help_text=USERNAME_HELP_TEXT,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        help_text="Only used to reset your password.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    # listener_register names the password "password"
    service_fields = {"password": "password1"}

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords do not match.")
        return cleaned


class RateLimitedSignInMixin:
    """Counts every sign-in attempt, before the password is checked, per client address and per
    account typed (accounts.throttling). A refused attempt is a non-field error with the
    refusal's code (``throttled`` or ``rate_limit_unavailable``); the view answers it with 429 or
    503 (``musicrec.throttling.refusal_status``). The password is not checked then, so a
    guess past the limit learns nothing, right or wrong."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username and password:
            try:
                sign_in_rate_limit(self.request, identifiers=[username])
            except ApplicationError as exc:
                raise ValidationError(exc.message, code=exc.code) from None
        return super().clean()


class SignInForm(RateLimitedSignInMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "That username or e-mail address and password do not match an account. "
            "The password is case-sensitive."
        ),
    }

    def __init__(self, request=None, *args, **kwargs) -> None:
        super().__init__(request, *args, **kwargs)
        username = self.fields["username"]
        username.label = "Username or e-mail"
        # an e-mail address may be longer than a username
        username.max_length = 254
        username.widget.attrs.update(maxlength=254, autocomplete="username")


class AdminSignInForm(RateLimitedSignInMixin, AdminAuthenticationForm):
    """The admin's sign-in, with the same limits as the site's."""


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


# --------------------------------------------------------------------------- profile
class DemographicsForm(forms.Form):
    # A text field: the model parses the number too, so "abc" and 12 get their errors in the
    # same round as a wrong country.
    age = forms.CharField(
        required=False,
        help_text=f"{AGE_MIN}–{AGE_MAX}.",
        widget=forms.NumberInput(attrs={"min": AGE_MIN, "max": AGE_MAX, "inputmode": "numeric"}),
    )
    gender = _select([BLANK, *Gender.choices], required=False)
    country = _select(country_choices(), required=False)
    occupation = _select([BLANK, *Occupation.choices], required=False)
    time_zone = _select(
        time_zone_choices(),
        label="Time zone",
        help_text="Times on the site are shown in this zone.",
    )

    @classmethod
    def initial_for(cls, user) -> dict:
        return {name: getattr(user, name) for name in cls.base_fields}

    def service_values(self) -> dict:
        """The values for ``listener_demographics_update``; blank clears a field."""
        return {name: self.cleaned_data.get(name) or None for name in self.fields}


class ContextForm(forms.Form):
    mood = _select([BLANK, *Mood.choices], required=False)
    activity = _select([BLANK, *Activity.choices], required=False)

    @classmethod
    def initial_for(cls, user) -> dict:
        return {"mood": user.mood, "activity": user.activity}


class GenreChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs) -> None:
        super().__init__(
            queryset=Genre.objects.order_by("name"), to_field_name="slug", required=False, **kwargs
        )


class PreferencesForm(forms.Form):
    preferred = GenreChoiceField(label="Genres you like")
    disliked = GenreChoiceField(label="Genres you would rather skip")

    @classmethod
    def initial_for(cls, preferences: dict[str, list[Genre]]) -> dict:
        return {kind: [g.slug for g in preferences[kind]] for kind in ("preferred", "disliked")}
