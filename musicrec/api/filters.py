"""Query-parameter parsing that accepts exactly what the OpenAPI schema says.

Django's form fields are lenient in ways a schema cannot state: ``int()`` reads ``" 12 "``,
``"1_000"`` and Arabic-Indic digits, ``float()`` reads ``"1e3"`` with spaces, and an empty
value means "no filter". The filters here take ASCII numbers only, refuse a parameter given
with no value, and each states its own schema (``openapi_schema()``), which
``musicrec.api.schema_params.filterset_parameters`` puts in the API schema.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import django_filters
from django import forms
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

from musicrec.api.schema_params import (
    enum_schema,
    integer_schema,
    number_schema,
    ordering_parameter,
    text_schema,
)

# at most 19 digits: every id and count fits (ids go to 2^63 - 1, 19 digits), and int() never
# meets a 5,000-digit string (it raises past 4,300)
INTEGER = re.compile(r"-?[0-9]{1,19}")
NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def parse_integer(text: str) -> int | None:
    """An ASCII whole number (``-3``, ``12``), else None."""
    return int(text) if INTEGER.fullmatch(text) else None


class StrictIntegerField(forms.IntegerField):
    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        number = parse_integer(str(value))
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class StrictFloatField(forms.FloatField):
    def to_python(self, value: Any) -> float | None:
        if value in self.empty_values:
            return None
        text = str(value)
        number = float(text) if NUMBER.fullmatch(text) else math.nan
        if not math.isfinite(number):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class IntegerFilter(django_filters.Filter):
    """A whole number, bounded by ``min_value`` and ``max_value``."""

    field_class = StrictIntegerField

    def openapi_schema(self) -> dict[str, Any]:
        return integer_schema(self.extra["min_value"], self.extra["max_value"])


class NumberFilter(django_filters.Filter):
    """A finite decimal number, bounded by ``min_value`` and ``max_value``."""

    field_class = StrictFloatField

    def openapi_schema(self) -> dict[str, Any]:
        return number_schema(self.extra["min_value"], self.extra["max_value"])


class EnumFilter(django_filters.TypedChoiceFilter):
    """One of ``choices`` (values only), exactly as written."""

    def openapi_schema(self) -> dict[str, Any]:
        return enum_schema([value for value, _label in self.extra["choices"]])


class TextFilter(django_filters.CharFilter):
    """Any text without NUL (the middleware refuses NUL in every query parameter)."""

    def openapi_schema(self) -> dict[str, Any]:
        return text_schema(minLength=1)


class StrictFilterSet(django_filters.FilterSet):
    """A parameter given without a value (``?year_min=``) is an error, not "no filter": the
    schema's types have no empty value."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        empty = [name for name in self.filters if name in self.data and self.data[name] == ""]
        for name in empty:
            self.form.add_error(name, forms.ValidationError("Give a value.", code="empty"))
        return valid and not empty


class StrictOrderingFilter(OrderingFilter):
    """Like DRF's, but ``ordering`` must name only fields the view can be ordered by, each
    optionally with ``-``, comma-separated with nothing else (no blanks, no empty parts): an
    unknown field is a 400 instead of being ignored."""

    def get_ordering(self, request, queryset, view):
        if self.ordering_param not in request.query_params:
            return self.get_default_ordering(view)
        fields = request.query_params.get(self.ordering_param, "").split(",")
        valid = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
        unknown = [field for field in fields if field.removeprefix("-") not in valid]
        if unknown:
            shown = ", ".join(repr(field) for field in unknown)
            raise ValidationError(
                {
                    self.ordering_param: [
                        f"Unknown field(s) {shown}; order by one or more of "
                        f"{', '.join(sorted(valid))} (prefix - to reverse), comma-separated."
                    ]
                }
            )
        return fields

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        fields: Sequence[str] = getattr(view, "ordering_fields", None) or ()
        if fields == "__all__" or not fields:
            return []
        return [ordering_parameter(list(fields))]
