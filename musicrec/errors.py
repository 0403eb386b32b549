"""The one domain error type. Services raise it; the API and pages turn it into responses."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A refusal a user can understand: ``message`` for people, ``code`` for programs.

    ``status`` is the HTTP status the API answers with; ``extra`` adds keys to the error body
    (``{"error": message, "code": code, **extra}``).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        status: int = 400,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.extra = extra or {}
