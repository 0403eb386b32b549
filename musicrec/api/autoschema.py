"""The API's ``AutoSchema`` for views whose DELETE takes a body."""

from __future__ import annotations

from typing import Any

from musicrec.api.schema import AutoSchema


class BodyAutoSchema(AutoSchema):
    """The API's schema (``musicrec.api.schema.AutoSchema``), documenting a request body on
    DELETE too when the view names one (``extend_schema(request=…)``): OpenAPI 3.0 allows it,
    and ``DELETE /api/v1/me/`` takes the password in its body. Set it on the view:
    ``schema = BodyAutoSchema()``."""

    def _get_request_body(self, direction: str = "request") -> dict[str, Any] | None:
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"  # the parent documents bodies of POST, PUT and PATCH only
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"
