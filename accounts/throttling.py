"""Rate limits of the sign-in, sign-up and password-reset pages and of the admin's sign-in.

The counting, and failing closed when Redis is down, is ``musicrec.throttling``'s; here is only
what each page counts. The rates are the API's (``auth`` per client address, shared with
``/api/v1/auth/…``; ``auth_account`` per account aimed at; ``password_reset`` per e-mail address),
so switching between the web and the API gains an attacker nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest

from accounts.selectors import listener_rate_limit_key
from musicrec.throttling import rate_limit


def sign_in_rate_limit(request: HttpRequest, *, identifiers: Iterable[str | None]) -> None:
    """One sign-in (or sign-up) attempt naming ``identifiers`` (usernames, e-mail addresses).
    Raises ``ApplicationError`` (429, or 503 when the limits cannot be checked)."""
    keys = [listener_rate_limit_key(identifier=i or "") for i in identifiers]
    rate_limit(request, scope="auth", keys=keys, key_scope="auth_account")


def password_reset_rate_limit(request: HttpRequest, *, email: str) -> None:
    """One password-reset request for ``email``: per client address at the ``auth`` rate and per
    e-mail address at the ``password_reset`` rate (so nobody's mailbox can be flooded, and a
    flood of reset requests does not lock the owner out of signing in)."""
    email = (email or "").strip().lower()
    rate_limit(request, scope="auth", keys=[email], key_scope="password_reset")
