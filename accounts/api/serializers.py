"""Listener API serializers.

Input serializers check the shape of a JSON value exactly as the API schema states it (type,
length, pattern, choices: age 13–100, a country code, a mood); what depends on stored data (a
taken name, a genre that exists) and the model's own validation stay with the services and the
model validators behind them, which the web forms and the admin share.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ImproperlyConfigured
from django.core.validators import EmailValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.fields import empty
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import ArtistBlock, User
from accounts.validators import (
    AGE_BANDS,
    AGE_MAX,
    AGE_MIN,
    USERNAME_HELP_TEXT,
    Activity,
    Gender,
    Mood,
    Occupation,
    UsernameValidator,
    country_codes,
    time_zone_names,
)
from catalog.api.filters import genre_reference, genre_reference_schema
from catalog.api.serializers import ArtistRefSerializer, GenreRefSerializer
from catalog.models import ID_MAX
from musicrec import registry
from musicrec.api.fields import StrictCharField, StrictIntegerField
from musicrec.api.schema_params import (
    NON_BLANK_TEXT_PATTERN,
    PYTHON_DIGITS,
    TEXT_PATTERN,
    text_with_pattern,
)

# More references than any catalog has genres: only a bound on the work one request can ask for.
MAX_GENRE_REFERENCES = 1000
# A discovery's range (accounts.validators.validate_discovery)
DISCOVERY_MIN, DISCOVERY_MAX = 0.0, 1.0


class NullableCharField(serializers.CharField):
    """Output: text, or ``null`` for a field stored blank (as in the export)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        return None if value in ("", None) else super().to_representation(value)


class NullableChoiceField(serializers.ChoiceField):
    """Output: one of the choices, or ``null`` for a field stored blank (as in the export)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        return None if value in ("", None) else super().to_representation(value)


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "oneOf": [
                {"type": "integer", "minimum": 1, "maximum": ID_MAX},
                genre_reference_schema(),
            ]
        },
        "maxItems": MAX_GENRE_REFERENCES,
        "description": "Genre ids (`12`) or slugs (`k-pop`); one that does not exist is a 404.",
    }
)
class GenreReferencesField(serializers.Field):
    """A list of genre ids (``12``) or slugs (``"k-pop"``), parsed to text for
    ``catalog.selectors.genres_resolve``, which decides which of them exist. Errors come as one
    flat list of messages, like every other field's."""

    default_error_messages = {
        "not_a_list": "Expected a list of genre ids or slugs.",
        "too_many": f"At most {MAX_GENRE_REFERENCES} genres.",
        "invalid_item": "The item at index {index} is neither a genre id nor a slug.",
    }

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        if len(data) > MAX_GENRE_REFERENCES:
            self.fail("too_many")
        references = []
        for index, item in enumerate(data):
            if isinstance(item, int) and not isinstance(item, bool) and 1 <= item <= ID_MAX:
                references.append(str(item))
            elif isinstance(item, str) and (reference := genre_reference(item)) is not None:
                references.append(reference)
            else:
                self.fail("invalid_item", index=index)
        return references

    def to_representation(self, value: Any) -> Any:
        return value


# --------------------------------------------------------------------------- output


class DemographicsSerializer(serializers.Serializer):
    age = serializers.IntegerField(allow_null=True)
    age_band = serializers.CharField(
        allow_null=True, help_text=", ".join(label for label, _, _ in AGE_BANDS)
    )
    gender = NullableChoiceField(choices=Gender.choices)
    country = NullableCharField(help_text="Two-letter ISO 3166-1 code, e.g. US or DE.")
    occupation = NullableChoiceField(choices=Occupation.choices)


class PreferencesSerializer(serializers.Serializer):
    preferred = GenreRefSerializer(many=True)
    disliked = GenreRefSerializer(many=True)


class ContextSerializer(serializers.Serializer):
    mood = NullableChoiceField(choices=Mood.choices)
    activity = NullableChoiceField(choices=Activity.choices)
    updated_at = serializers.DateTimeField(source="context_updated_at", allow_null=True)
    discovery = serializers.FloatField(
        min_value=DISCOVERY_MIN,
        max_value=DISCOVERY_MAX,
        help_text="The default of the recommendations' discovery knob: 0 familiar … 1 new "
        "(0.5 unless set).",
    )


class ArtistBlockSerializer(serializers.ModelSerializer):
    """A blocked artist ("not interested"): their tracks never come back in the listener's
    recommendations."""

    artist = ArtistRefSerializer(read_only=True)
    blocked_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = ArtistBlock
        fields = ["artist", "blocked_at"]
        read_only_fields = fields


class ProfileSerializer(serializers.ModelSerializer):
    """The caller's own profile.

    ``preferences`` and the keys other apps register (``musicrec.registry.profile_parts``,
    e.g. ``history``: count, limit, remaining) come in the context: the view reads them through
    selectors, so serialising runs no queries of its own. Each registered key is a field of its
    registered serializer, so the schema documents it.
    """

    demographics = DemographicsSerializer(source="*")
    preferences = serializers.SerializerMethodField()
    context = ContextSerializer(source="*")

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "date_joined",
            "time_zone",
            "demographics",
            "preferences",
            "context",
        ]
        read_only_fields = fields

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name, part in registry.profile_parts.items():
            if name in fields:
                raise ImproperlyConfigured(f"profile part {name!r} would replace a field")
            fields[name] = _part_field(name, part.serializer)
        return fields

    @extend_schema_field(PreferencesSerializer)
    def get_preferences(self, user: User) -> dict[str, Any]:
        return PreferencesSerializer(self.context["preferences"]).data


class ExportAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.CharField()
    date_joined = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)
    time_zone = serializers.CharField()
    onboarded_at = serializers.DateTimeField(allow_null=True)


class ExportSerializer(serializers.Serializer):
    """The data export's keys of the accounts app (``accounts.selectors.listener_export``).
    The apps above add keys of their own (``musicrec.registry.listener_export_parts``: the
    history, the interaction log, opinions, listening imports), so more keys may follow."""

    exported_at = serializers.DateTimeField()
    account = ExportAccountSerializer()
    demographics = DemographicsSerializer()
    preferences = PreferencesSerializer()
    context = ContextSerializer()
    blocks = ArtistBlockSerializer(many=True)


def _part_field(name: str, serializer_class: type) -> serializers.Serializer:
    """An instance of the registered serializer of a profile key, rendering the value the view
    read into ``context["parts"][name]`` (the class itself, so the schema names it as usual)."""
    field = serializer_class(read_only=True)
    field.get_attribute = lambda instance: field.context["parts"][name]
    return field


# --------------------------------------------------------------------------- input
#
# Request bodies are JSON (the views parse nothing else), and each field accepts exactly what
# its schema says: the shapes (types, lengths, patterns, choices) are checked here, so the
# schema can state them; what depends on stored data (a name already taken, a genre that does
# not exist, the password policy's lists) is decided by the services.


def _password_rules() -> tuple[int, bool]:
    """The shortest password and whether an all-digit one is refused, from the configured
    validators (AUTH_PASSWORD_VALIDATORS), so the schema states the policy in force."""
    min_length, numeric = 1, False
    for validator in password_validation.get_default_password_validators():
        if isinstance(validator, password_validation.MinimumLengthValidator):
            min_length = max(min_length, validator.min_length)
        numeric = numeric or isinstance(validator, password_validation.NumericPasswordValidator)
    return min_length, numeric


PASSWORD_MIN_LENGTH, PASSWORD_NOT_NUMERIC = _password_rules()
# A username as accounts.validators.UsernameValidator takes it (\Z is $ in the schema's regex).
USERNAME_PATTERN = UsernameValidator.regex.replace("\\Z", "$")
USERNAME_MAX_LENGTH = User._meta.get_field("username").max_length
EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length
# What Django's EmailValidator accepts, as the schema's pattern, so that a client (or a
# generated test case) can tell before sending: a dot-atom local part of at most 64 characters
# and a domain with a dot (JSON Schema's "email" format alone also allows "name@host", a
# numeric top-level domain and quoted local parts). Django also takes international domains,
# which this pattern leaves out.
EMAIL_PATTERN = (
    r"^(?=[^@]{1,64}@)[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z-]{0,61}[A-Za-z]$"
)
PASSWORD_PATTERN = (
    text_with_pattern(at_least=1, outside=PYTHON_DIGITS) if PASSWORD_NOT_NUMERIC else TEXT_PATTERN
)


class ClearableChoiceField(serializers.ChoiceField):
    """One of the choices, exactly (no trimming, no case folding); ``null`` or ``""`` clears
    the field (parsed to ``None``). A missing key: see the view (PUT clears, PATCH keeps)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        return None if value == "" else value


class ClearableTextField(StrictCharField):
    """Text matching ``pattern`` exactly (no trimming); ``null`` or ``""`` clears the field
    (parsed to ``None``). For a long list of values: a pattern, not an enum, because generated
    clients make an enum a type whose member names would clash (``AD`` and ``ad``,
    ``Etc/GMT+1`` and ``Etc/GMT-1``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def run_validation(self, data: Any = empty) -> str | None:
        value = super().run_validation(data)
        return value or None


def _one_of(alternatives: Iterable[str]) -> str:
    """A pattern matching exactly one of ``alternatives`` (regexes), or the empty text."""
    return "^(?:" + "|".join(alternatives) + ")?$"


COUNTRY_CODES = sorted(country_codes())
# Each code in any case (``us`` is stored as ``US``): ``[Uu][Ss]``.
COUNTRY_PATTERN = _one_of(
    "".join(f"[{letter}{letter.lower()}]" for letter in code) for code in COUNTRY_CODES
)
TIME_ZONES = sorted(time_zone_names())
TIME_ZONE_PATTERN = _one_of(name.replace("+", "\\+") for name in TIME_ZONES)


class CountryField(ClearableTextField):
    """An ISO 3166-1 alpha-2 code of a real country (accounts.validators), in any case,
    stored upper case."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("pattern", COUNTRY_PATTERN)
        kwargs.setdefault(
            "pattern_message",
            "Not the two-letter ISO 3166-1 code of a country (e.g. US, DE).",
        )
        kwargs.setdefault(
            "help_text",
            "Two-letter ISO 3166-1 code of a country, in any case (`us` is stored as `US`); "
            '`null` or `""` clears it.',
        )
        super().__init__(**kwargs)

    def run_validation(self, data: Any = empty) -> str | None:
        value = super().run_validation(data)
        return value.upper() if value else None


class TimeZoneField(ClearableTextField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("pattern", TIME_ZONE_PATTERN)
        kwargs.setdefault("pattern_message", "Not a time zone name such as Europe/Berlin.")
        kwargs.setdefault(
            "help_text",
            'An IANA time zone name such as `Europe/Berlin`; `null` or `""` sets the site\'s '
            "default.",
        )
        super().__init__(**kwargs)


class RegisterSerializer(serializers.Serializer):
    """Names another account has (in any case) are a 409; the password policy's rules no
    schema can state (not a common password, not like the username or e-mail address) a 400
    from the service."""

    username = StrictCharField(
        max_length=USERNAME_MAX_LENGTH,
        pattern=USERNAME_PATTERN,
        pattern_message=UsernameValidator.message,
        trim_whitespace=False,
        help_text=USERNAME_HELP_TEXT,
    )
    email = StrictCharField(
        max_length=EMAIL_MAX_LENGTH,
        pattern=EMAIL_PATTERN,
        pattern_message=EmailValidator.message,
        trim_whitespace=False,
        validators=[EmailValidator()],
        openapi_format="email",
    )
    password = StrictCharField(
        min_length=PASSWORD_MIN_LENGTH,
        pattern=PASSWORD_PATTERN,
        pattern_message="This password is entirely numeric.",
        trim_whitespace=False,
        write_only=True,
        style={"input_type": "password"},
        help_text=f"At least {PASSWORD_MIN_LENGTH} characters, not all digits, not a common "
        "password, not like the username or e-mail address.",
    )


class DemographicsInputSerializer(serializers.Serializer):
    """``null`` or ``""`` clears a field (the time zone goes back to the site's default)."""

    age = StrictIntegerField(
        min_value=AGE_MIN,
        max_value=AGE_MAX,
        allow_null=True,
        required=False,
        help_text=f"{AGE_MIN}–{AGE_MAX}; `null` clears it.",
    )
    gender = ClearableChoiceField(choices=Gender.choices)
    country = CountryField()
    occupation = ClearableChoiceField(choices=Occupation.choices)
    time_zone = TimeZoneField()


class PreferencesInputSerializer(serializers.Serializer):
    """A missing list means none (``PUT`` replaces both lists)."""

    preferred = GenreReferencesField(required=False, default=list)
    disliked = GenreReferencesField(required=False, default=list)


class StrictNumberField(serializers.FloatField):
    """A finite JSON number (not ``"0.5"``, not ``true``)."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, (str, bool)):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class ContextInputSerializer(serializers.Serializer):
    """``null``, ``""`` or a missing key clears mood or activity; a missing ``discovery`` keeps
    the listener's."""

    mood = ClearableChoiceField(choices=Mood.choices)
    activity = ClearableChoiceField(choices=Activity.choices)
    discovery = StrictNumberField(
        required=False,
        min_value=DISCOVERY_MIN,
        max_value=DISCOVERY_MAX,
        help_text="The default of the recommendations' discovery knob, 0 (familiar: close to "
        "the history, popular) … 1 (new: less played, new artists); missing: unchanged.",
    )


class ArtistBlockInputSerializer(serializers.Serializer):
    artist_id = StrictIntegerField(
        min_value=1, max_value=ID_MAX, help_text="The artist to block; an unknown one is a 404."
    )


class DeleteAccountSerializer(serializers.Serializer):
    password = StrictCharField(
        pattern=TEXT_PATTERN,
        trim_whitespace=False,
        write_only=True,
        style={"input_type": "password"},
        help_text="The account's password: a wrong one is a 403 and nothing is deleted.",
    )


class LogoutSerializer(serializers.Serializer):
    refresh = StrictCharField(
        pattern=NON_BLANK_TEXT_PATTERN, write_only=True, help_text="the refresh token to revoke"
    )


class TokenSerializer(TokenObtainPairSerializer):
    """simplejwt's sign-in, with fields that take text only (as the schema says), and the pair
    it answers with declared for the schema (components ``TokenObtainPairRequest`` and
    ``TokenObtainPair``, the names generated clients know)."""

    access = serializers.CharField(
        read_only=True, help_text="JWT access token: `Authorization: Bearer …`"
    )
    refresh = serializers.CharField(
        read_only=True, help_text="JWT refresh token, for /api/v1/auth/token/refresh/"
    )

    class Meta:
        ref_name = "TokenObtainPair"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[self.username_field] = StrictCharField(
            pattern=NON_BLANK_TEXT_PATTERN,
            write_only=True,
            help_text="A username or an e-mail address, in any case.",
        )
        self.fields["password"] = StrictCharField(
            pattern=NON_BLANK_TEXT_PATTERN, write_only=True, style={"input_type": "password"}
        )


class RefreshSerializer(TokenRefreshSerializer):
    """A new access and refresh token; the refresh token given can no longer be used."""

    refresh = StrictCharField(pattern=NON_BLANK_TEXT_PATTERN)

    # simplejwt looks the token's user up with ``.get()``: for a deleted account that would
    # let ``DoesNotExist`` escape as a 500. It is a 401 like any other dead token.

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            self._check_password_unchanged(RefreshToken(attrs["refresh"]))
            return super().validate(attrs)
        except User.DoesNotExist:
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from None

    @staticmethod
    def _check_password_unchanged(refresh: RefreshToken) -> None:
        """simplejwt checks the password claim (CHECK_REVOKE_TOKEN) of access tokens only: a
        refresh token from before a password change would still mint new access tokens (which
        would then fail). Refuse it here, whichever way the password changed."""
        if not jwt_settings.CHECK_REVOKE_TOKEN:
            return
        user_id = refresh.get(jwt_settings.USER_ID_CLAIM)
        user = User.objects.filter(**{jwt_settings.USER_ID_FIELD: user_id}).first()
        if user is None:
            return  # refused by simplejwt's own checks (no_active_account)
        claim = refresh.get(jwt_settings.REVOKE_TOKEN_CLAIM)
        if claim != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                "The password was changed since this token was issued; sign in again.",
                "password_changed",
            )
