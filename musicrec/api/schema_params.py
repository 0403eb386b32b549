"""OpenAPI pieces that say exactly what a parameter or field accepts.

``musicrec.api.schema`` defines the shared responses; this module the shared *inputs*: text
patterns that match what Django and DRF accept (no NUL, not blank after Python's own
whitespace trimming), query parameters with their real types, bounds and enums (built from a
django-filter FilterSet of ``musicrec.api.filters``' strict filters) and the ordering
parameter; the page parameters are the paginator's (``musicrec.api.pagination``). It imports
nothing of DRF's views, so the filter classes DRF's settings name can use it.

A value a schema here allows is accepted by the code behind it, and a value it forbids is
refused with a 4xx: the contract test holds both directions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from drf_spectacular.utils import OpenApiParameter


def _escape(code: int) -> str:
    # \uXXXX reads the same in ECMA, Python and Rust regexes; characters beyond the BMP are
    # written as themselves (ECMA has no escape for them outside the u flag).
    return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)


def character_class(characters: Iterable[str]) -> str:
    """The inside of a regex character class (no brackets) matching exactly ``characters``,
    as ranges of escaped code points."""
    codes = sorted({ord(character) for character in characters})
    parts: list[str] = []
    start = previous = None
    for code in [*codes, None]:
        if start is not None and (code is None or code != previous + 1):
            parts.append(
                _escape(start) if start == previous else f"{_escape(start)}-{_escape(previous)}"
            )
            start = None
        if code is not None and start is None:
            start = code
        previous = code
    return "".join(parts)


# What Python's str.strip() and str.split() remove (DRF's CharField trims with it, the search
# collapses it), which differs from the \s of ECMA and Python regexes.
PYTHON_WHITESPACE = character_class(chr(code) for code in range(0x3001) if chr(code).isspace())
# What str.isdigit() calls a digit (Django's NumericPasswordValidator uses it): more than \d.
PYTHON_DIGITS = character_class(chr(code) for code in range(0x110000) if chr(code).isdigit())
NUL = "\\u0000"

# Any text without a NUL (PostgreSQL refuses NUL; DRF's CharField and the query middleware too).
TEXT_PATTERN = f"^[^{NUL}]*$"
# Text that is not blank after DRF trims it: at least one character that is not whitespace.
NON_BLANK_TEXT_PATTERN = f"^[^{NUL}]*[^{NUL}{PYTHON_WHITESPACE}][^{NUL}]*$"


def text_with_pattern(*, at_least: int, outside: str) -> str:
    """Text without NUL holding at least ``at_least`` characters outside the class ``outside``
    (the inside of a character class), anywhere."""
    some = f"[^{NUL}{outside}][^{NUL}]*"
    return f"^[^{NUL}]*" + some * at_least + "$"


def text_schema(*, blank: bool = True, **extra: Any) -> dict[str, Any]:
    """A string without NUL; ``blank=False``: not empty or whitespace only either."""
    pattern = TEXT_PATTERN if blank else NON_BLANK_TEXT_PATTERN
    return {"type": "string", "pattern": pattern, **({} if blank else {"minLength": 1}), **extra}


# --------------------------------------------------------------------------- query parameters


def query_parameter(
    name: str,
    schema: dict[str, Any],
    description: str = "",
    *,
    required: bool = False,
) -> OpenApiParameter:
    """A query parameter with an exact schema. Arrays are one comma-separated value
    (``style: form, explode: false``), as the filters read them."""
    array = schema.get("type") == "array"
    return OpenApiParameter(
        name,
        schema,
        OpenApiParameter.QUERY,
        required=required,
        description=description,
        style="form" if array else None,
        explode=False if array else None,
    )


def integer_schema(minimum: int, maximum: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def number_schema(minimum: float, maximum: float) -> dict[str, Any]:
    return {"type": "number", "format": "double", "minimum": minimum, "maximum": maximum}


def enum_schema(values: Sequence[str]) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def ordering_schema(fields: Sequence[str]) -> dict[str, Any]:
    """``ordering``: one or more fields, comma-separated, each ascending or ``-`` descending."""
    values = [value for name in fields for value in (name, f"-{name}")]
    return {"type": "array", "items": enum_schema(values), "minItems": 1}


def ordering_parameter(fields: Sequence[str]) -> dict[str, Any]:
    """The ``ordering`` parameter as an OpenAPI parameter object (for
    ``get_schema_operation_parameters``)."""
    return {
        "name": "ordering",
        "required": False,
        "in": "query",
        "description": "Sort by these fields, comma-separated, in order of precedence; a "
        "leading `-` sorts that field in descending order.",
        "schema": ordering_schema(fields),
        "style": "form",
        "explode": False,
    }


def filterset_parameters(filterset_class: type) -> list[OpenApiParameter]:
    """One query parameter per filter of a FilterSet, each with the schema the filter states
    (``openapi_schema()``, as ``musicrec.api.filters``' strict filters do)."""
    parameters = []
    for name, filter_ in filterset_class.base_filters.items():
        schema = filter_.openapi_schema() if hasattr(filter_, "openapi_schema") else None
        if schema is None:
            raise TypeError(f"filter {name!r} of {filterset_class.__name__} states no schema")
        description = str(filter_.extra.get("help_text") or "")
        parameters.append(query_parameter(name, schema, description))
    return parameters
