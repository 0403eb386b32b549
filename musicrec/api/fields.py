"""Serializer fields for JSON request bodies that accept exactly what their schema says.

DRF's ``CharField`` also takes a number (``12`` becomes ``"12"``) and its ``IntegerField`` a
numeric string (``"12"``); a schema of ``type: string`` or ``type: integer`` says neither. The
fields here refuse the other JSON types, and ``StrictCharField(pattern=…)`` checks a regex that
the schema states as its ``pattern`` (written once, read by Python and by clients alike).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A JSON string (not a number), matching ``pattern`` when one is given (searched, so
    anchor it: ``^…$``). ``openapi_format`` is the schema's ``format`` (``email``): say it only
    for a format the field's validators check."""

    default_error_messages = {"not_text": "Expected text."}

    def __init__(
        self,
        *,
        pattern: str | None = None,
        pattern_message: str = "This value does not have the expected form.",
        openapi_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.pattern = pattern
        self.openapi_format = openapi_format
        super().__init__(**kwargs)
        if pattern:
            self.validators.append(
                RegexValidator(re.compile(pattern), pattern_message, code="pattern")
            )

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON number that is whole (not ``"12"``, not ``true``)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, (str, bool)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharFieldExtension(OpenApiSerializerFieldExtension):
    """The schema of a ``StrictCharField``: a string with its ``pattern`` (lengths, blank and
    null are added by drf-spectacular as for any CharField)."""

    target_class = StrictCharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = build_basic_type(OpenApiTypes.STR)
        assert schema is not None
        if self.target.pattern:
            schema["pattern"] = self.target.pattern
        if self.target.openapi_format:
            schema["format"] = self.target.openapi_format
        if not self.target.allow_blank:
            schema["minLength"] = 1
        return schema
