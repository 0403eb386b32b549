"""Every change to a listener's account, profile, preferences and context.

Validation lives in the model fields (accounts.validators) and runs through ``full_clean``, so
the web forms, the API and the admin all accept and refuse the same values. Each write locks the
listener's row, validates everything first and saves only when all of it is valid: an invalid
field changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Field
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import ArtistBlock, GenrePreference, User
from accounts.sessions import ListenerSession
from catalog.models import Artist, Genre
from catalog.selectors import genres_resolve
from musicrec import realtime
from musicrec.errors import ApplicationError
from musicrec.taste import TasteChange, taste_changed_on_commit

DEMOGRAPHIC_FIELDS = ("age", "gender", "country", "occupation", "time_zone")
CONTEXT_FIELDS = ("mood", "activity")


def listener_lock(*, user: User) -> User:
    """Lock the listener's row (``SELECT … FOR UPDATE``) until the transaction ends and return
    it fresh. Every service that changes a listener's own data (profile, preferences, history)
    takes this lock first, so two writes for one listener run one after the other while other
    listeners are not affected. Call it inside ``transaction.atomic``."""
    return User.objects.select_for_update().get(pk=user.pk)


def _apply_and_validate(listener: User, values: Mapping[str, Any], fields: Iterable[str]) -> None:
    """Set ``values`` on ``listener`` and run the field validators of exactly those fields."""
    allowed = set(fields)
    unknown = set(values) - allowed
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    for name, value in values.items():
        field = User._meta.get_field(name)
        assert isinstance(field, Field)  # demographic and context fields are concrete
        if value is None and not field.null:
            value = field.get_default()  # blank clears: "" for text fields
        setattr(listener, name, value)
    exclude = [f.name for f in User._meta.concrete_fields if f.name not in values]
    listener.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


# The code of the error a name another account has gets (the API answers a 409 when it is the
# only problem: see ``registration_conflicts``).
TAKEN = "taken"
_TAKEN_MESSAGES = {
    "username": "A user with that username already exists.",
    "email": "A user with that e-mail address already exists.",
}


def listener_register(*, username: str, email: str, password: str) -> User:
    """Create a listener account. Raises ValidationError naming every offending field; a
    username or e-mail address another account has (in any case) is an error of code
    ``taken`` (``TAKEN``)."""
    username = User.normalize_username((username or "").strip())
    email = User.objects.normalize_email((email or "").strip())
    errors: dict[str, list[ValidationError]] = {}

    def add(name: str, message: str, code: str = "invalid") -> None:
        errors.setdefault(name, []).append(ValidationError(message, code=code))

    if not username:
        add("username", "A username is required.", "required")
    elif User.objects.filter(username__iexact=username).exists():
        add("username", _TAKEN_MESSAGES["username"], TAKEN)
    if not email:
        add("email", "An e-mail address is required.", "required")
    elif User.objects.filter(email__iexact=email).exists():
        add("email", _TAKEN_MESSAGES["email"], TAKEN)
    candidate = User(username=username, email=email)
    checked = {"username", "email"} - set(errors)  # not twice ("required" and "blank")
    try:
        candidate.full_clean(
            exclude=[f.name for f in User._meta.concrete_fields if f.name not in checked],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        for name, field_errors in exc.error_dict.items():
            errors.setdefault(name, []).extend(field_errors)
    try:
        password_validation.validate_password(password or "", user=candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.error_list)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError:
        # Two sign-ups racing for the same name: the unique constraints decided.
        raise ValidationError(
            {
                "username": [
                    ValidationError(
                        "A user with that username or e-mail address already exists.", code=TAKEN
                    )
                ]
            }
        ) from None


def registration_conflicts(error: ValidationError) -> list[str]:
    """The fields of a refused registration that name what another account already has (the
    errors of code ``TAKEN``), whatever else is wrong."""
    if not hasattr(error, "error_dict"):
        return []
    return sorted(
        name
        for name, field_errors in error.error_dict.items()
        if any(e.code == TAKEN for e in field_errors)
    )


@transaction.atomic
def listener_demographics_update(*, user: User, values: Mapping[str, Any]) -> User:
    """Set some or all of age, gender, country, occupation and time zone (``None`` or ``""``
    clears one). All-or-nothing: one invalid value and nothing is saved."""
    listener = listener_lock(user=user)
    _apply_and_validate(listener, values, DEMOGRAPHIC_FIELDS)
    listener.save(update_fields=list(values))
    if set(values) - {"time_zone"}:
        taste_changed_on_commit(user_id=listener.pk, reason=TasteChange.DEMOGRAPHICS)
    return listener


@transaction.atomic
def listener_context_update(*, user: User, mood: str | None, activity: str | None) -> User:
    """Set the current mood and activity; record when the context last changed."""
    listener = listener_lock(user=user)
    before = (listener.mood, listener.activity)
    _apply_and_validate(listener, {"mood": mood, "activity": activity}, CONTEXT_FIELDS)
    fields = ["mood", "activity"]
    if (listener.mood, listener.activity) != before:
        listener.context_updated_at = timezone.now()
        fields.append("context_updated_at")
        taste_changed_on_commit(user_id=listener.pk, reason=TasteChange.CONTEXT)
    listener.save(update_fields=fields)
    return listener


@transaction.atomic
def listener_discovery_update(*, user: User, discovery: float) -> User:
    """Set the listener's default discovery (0 familiar … 1 new); out of range or not a
    number: ``ValidationError`` on ``discovery``, nothing saved."""
    listener = listener_lock(user=user)
    before = listener.discovery
    _apply_and_validate(listener, {"discovery": discovery}, ("discovery",))
    listener.save(update_fields=["discovery"])
    if listener.discovery != before:
        taste_changed_on_commit(user_id=listener.pk, reason=TasteChange.DISCOVERY)
    return listener


@transaction.atomic
def artist_block(*, user: User, artist_id: int) -> ArtistBlock:
    """ "Not interested in this artist": block it (blocking twice keeps the first block). An
    unknown artist: ``ApplicationError`` 404 ``unknown_artist``, nothing changes."""
    artist = Artist.objects.filter(pk=artist_id).first()
    if artist is None:
        raise ApplicationError("No such artist.", code="unknown_artist", status=404)
    listener = listener_lock(user=user)
    block, created = ArtistBlock.objects.get_or_create(user=listener, artist=artist)
    if created:
        taste_changed_on_commit(user_id=listener.pk, reason=TasteChange.BLOCKS)
    return block


@transaction.atomic
def artist_unblock(*, user: User, artist_id: int) -> bool:
    """Unblock an artist; return whether it was blocked."""
    listener = listener_lock(user=user)
    deleted, _ = ArtistBlock.objects.filter(user=listener, artist_id=artist_id).delete()
    if deleted:
        taste_changed_on_commit(user_id=listener.pk, reason=TasteChange.BLOCKS)
    return bool(deleted)


def listener_preferences_replace(
    *, user: User, preferred: Iterable[Any], disliked: Iterable[Any]
) -> None:
    """Replace the preferences from genre ids or slugs (the API). Nothing changes when a genre
    does not exist (ApplicationError 404, ``unknown_genre``: the unknown ones of both lists,
    named by list) or is in both lists (ApplicationError 409, ``genre_in_both_lists``)."""
    genres: dict[str, list[Genre]] = {}
    unknown: dict[str, list[str]] = {}
    for field, references in (("preferred", preferred), ("disliked", disliked)):
        resolved = genres_resolve(references=references)
        genres[field] = resolved.genres
        if resolved.unknown:
            unknown[field] = resolved.unknown
    if unknown:
        named = "; ".join(f"{field}: {', '.join(refs)}" for field, refs in unknown.items())
        raise ApplicationError(
            f"Unknown genre(s) ({named}). Use genre ids or slugs (see /api/v1/genres/).",
            code="unknown_genre",
            status=404,
            extra={"unknown": unknown},
        )
    both = sorted({g.name for g in genres["preferred"]} & {g.name for g in genres["disliked"]})
    if both:
        raise ApplicationError(
            f"A genre cannot be both preferred and disliked: {', '.join(both)}.",
            code="genre_in_both_lists",
            status=409,
            extra={"genres": both},
        )
    listener_preferences_set(user=user, preferred=genres["preferred"], disliked=genres["disliked"])


@transaction.atomic
def listener_preferences_set(
    *, user: User, preferred: Iterable[Genre], disliked: Iterable[Genre]
) -> None:
    """Replace the listener's preferred and disliked genres. A genre cannot be both."""
    preferred, disliked = list(preferred), list(disliked)
    both = sorted({g.name for g in preferred} & {g.name for g in disliked})
    if both:
        raise ValidationError(
            {"disliked": [f"A genre cannot be both preferred and disliked: {', '.join(both)}."]}
        )
    listener = listener_lock(user=user)
    taste_changed_on_commit(user_id=listener.pk, reason=TasteChange.PREFERENCES)
    GenrePreference.objects.filter(user=listener).delete()
    GenrePreference.objects.bulk_create(
        [
            GenrePreference(user=listener, genre=g, kind=GenrePreference.Kind.PREFERRED)
            for g in preferred
        ]
        + [
            GenrePreference(user=listener, genre=g, kind=GenrePreference.Kind.DISLIKED)
            for g in disliked
        ]
    )


@transaction.atomic
def listener_onboarding_finish(*, user: User) -> None:
    """The listener finished or skipped onboarding (they can complete it from their profile)."""
    listener = listener_lock(user=user)
    if listener.onboarded_at is None:
        listener.onboarded_at = timezone.now()
        listener.save(update_fields=["onboarded_at"])
        user.onboarded_at = listener.onboarded_at


def refresh_token_revoke(*, token: str) -> None:
    """Blacklist one refresh token (logout). The token is its own credential: one that is not
    valid (malformed, expired, already revoked, an access token) is refused like a failed
    sign-in, ApplicationError 401 ``token_not_valid``."""
    from rest_framework_simplejwt.exceptions import TokenError
    from rest_framework_simplejwt.tokens import RefreshToken

    try:
        RefreshToken(token).blacklist()  # type: ignore[arg-type]  # stubs: a Token, not text
    except TokenError as exc:
        raise ApplicationError(str(exc), code="token_not_valid", status=401) from None


def listener_tokens_revoke(*, user: User) -> int:
    """Blacklist every refresh token of the listener; return how many were still valid."""
    outstanding = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now())
    revoked = 0
    for token in outstanding.exclude(blacklistedtoken__isnull=False):
        BlacklistedToken.objects.get_or_create(token=token)
        revoked += 1
    return revoked


@transaction.atomic
def listener_password_changed(*, user: User, keep_session_key: str | None = None) -> None:
    """After a password change: end the listener's other sessions and revoke their refresh
    tokens, so a stolen session or token stops working at once. (Access tokens need nothing
    here: they carry a hash of the password hash, which no longer matches; see SIMPLE_JWT.)"""
    sessions = ListenerSession.objects.filter(user=user)
    if keep_session_key:
        sessions = sessions.exclude(session_key=keep_session_key)
    sessions.delete()
    listener_tokens_revoke(user=user)
    realtime.disconnect_on_commit(user_id=user.pk, keep_session_key=keep_session_key)


def listener_signed_out(*, user: User, session_key: str | None) -> None:
    """After a sign-out: close the live connections (WebSockets) of that session."""
    if session_key:
        realtime.disconnect_on_commit(user_id=user.pk, session_key=session_key)


def listener_deactivated(*, user: User) -> None:
    """After an account is deactivated (admin): close its live connections."""
    realtime.disconnect_on_commit(user_id=user.pk)


@transaction.atomic
def listener_delete(*, user: User, password: str) -> None:
    """Delete the account and everything that belongs to it, after checking the password
    (missing: ApplicationError 400 ``password_required``; wrong: 403 ``wrong_password``).

    Foreign keys cascade (preferences, sessions, and the rows later apps add); refresh tokens
    are removed explicitly because simplejwt keeps them (SET_NULL) for its own audit trail.
    """
    if not password:
        raise ApplicationError(
            "Your password is required to delete the account; the account was not deleted.",
            code="password_required",
            status=400,
        )
    if not user.check_password(password):
        raise ApplicationError(
            "The password is not correct; the account was not deleted.",
            code="wrong_password",
            status=403,
        )
    OutstandingToken.objects.filter(user=user).delete()  # blacklist rows cascade
    realtime.disconnect_on_commit(user_id=user.pk)
    User.objects.filter(pk=user.pk).delete()
