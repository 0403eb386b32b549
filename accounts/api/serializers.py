"""Listener API serializers.

Input serializers only parse JSON types; what a value may be (age 13–100, a real country, a
known genre…) is decided once, by the services and the model validators behind them, so the
API, the web forms and the admin accept and refuse the same values.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.fields import empty
from rest_framework.utils import html
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import User
from accounts.validators import AGE_BANDS, AGE_MAX, AGE_MIN, Activity, Gender, Mood, Occupation
from catalog.api.serializers import GenreRefSerializer
from musicrec import registry

# More references than any catalog has genres: only a bound on the work one request can ask for.
MAX_GENRE_REFERENCES = 1000


class NullableCharField(serializers.CharField):
    """Text where ``null`` and ``""`` both mean "clear the field"; parsed to ``None``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def run_validation(self, data: Any = empty) -> str | None:
        value = super().run_validation(data)
        return None if value == "" else value

    def to_representation(self, value: Any) -> str | None:
        return None if value in ("", None) else super().to_representation(value)


class NullableIntegerField(serializers.IntegerField):
    """An integer, or ``null`` / ``""`` to clear the field."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def run_validation(self, data: Any = empty) -> int | None:
        if isinstance(data, str) and not data.strip():
            return None
        return super().run_validation(data)


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
        "items": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
        "maxItems": MAX_GENRE_REFERENCES,
        "description": "genre ids or slugs",
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

    def get_value(self, dictionary: Any) -> Any:
        # Form data repeats the key (preferred=rock&preferred=pop), as DRF's ListField reads it.
        if html.is_html_input(dictionary):
            if self.field_name not in dictionary:
                return empty
            return dictionary.getlist(self.field_name)
        return super().get_value(dictionary)

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        if len(data) > MAX_GENRE_REFERENCES:
            self.fail("too_many")
        references = []
        for index, item in enumerate(data):
            if isinstance(item, bool) or not isinstance(item, (int, str)):
                self.fail("invalid_item", index=index)
            references.append(str(item).strip())
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


def _part_field(name: str, serializer_class: type) -> serializers.Serializer:
    """An instance of the registered serializer of a profile key, rendering the value the view
    read into ``context["parts"][name]`` (the class itself, so the schema names it as usual)."""
    field = serializer_class(read_only=True)
    field.get_attribute = lambda instance: field.context["parts"][name]
    return field


# --------------------------------------------------------------------------- input


class RegisterSerializer(serializers.Serializer):
    # Missing or blank values reach the service, which names every problem in one answer.
    username = serializers.CharField(required=False, allow_blank=True, default="")
    email = serializers.CharField(required=False, allow_blank=True, default="")
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        write_only=True,
        style={"input_type": "password"},
    )


class DemographicsInputSerializer(serializers.Serializer):
    """``null`` or ``""`` clears a field (the time zone goes back to the site's default)."""

    age = NullableIntegerField(help_text=f"{AGE_MIN}–{AGE_MAX}")
    gender = NullableCharField(help_text=", ".join(Gender.values))
    country = NullableCharField(help_text="Two-letter ISO 3166-1 code, e.g. US or DE.")
    occupation = NullableCharField(help_text=", ".join(Occupation.values))
    time_zone = NullableCharField(help_text="An IANA time zone name such as Europe/Berlin.")


class PreferencesInputSerializer(serializers.Serializer):
    """A missing list means none (``PUT`` replaces both lists)."""

    preferred = GenreReferencesField(required=False, default=list)
    disliked = GenreReferencesField(required=False, default=list)


class ContextInputSerializer(serializers.Serializer):
    """``null``, ``""`` or a missing key clears mood or activity."""

    mood = NullableCharField(help_text=", ".join(Mood.values))
    activity = NullableCharField(help_text=", ".join(Activity.values))


class DeleteAccountSerializer(serializers.Serializer):
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        write_only=True,
        style={"input_type": "password"},
    )


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(write_only=True, help_text="the refresh token to revoke")


class RefreshSerializer(TokenRefreshSerializer):
    """A new access and refresh token; the refresh token given can no longer be used."""

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
