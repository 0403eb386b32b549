"""Listener API: registration, JWT sign-in, and the caller's own profile (``/me/…``).

Thin views: parse with a serializer, call one service or selector, serialise the result.
Every ``/me/`` view works on ``request.user`` only; there are no per-id listener URLs, so one
listener cannot address another's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http.response import HttpResponseBase
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts import selectors, services
from accounts.api.serializers import (
    ArtistBlockInputSerializer,
    ArtistBlockSerializer,
    ContextInputSerializer,
    DeleteAccountSerializer,
    DemographicsInputSerializer,
    ExportSerializer,
    LogoutSerializer,
    PreferencesInputSerializer,
    ProfileSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenSerializer,
)
from accounts.models import User
from catalog.models import ID_MAX
from musicrec import registry
from musicrec.api.autoschema import BodyAutoSchema
from musicrec.api.pagination import PageNumberPagination
from musicrec.api.parsers import JSONParser
from musicrec.api.schema import (
    NO_CONTENT,
    PAGE_PARAMETERS,
    Link,
    error_responses,
    paginated,
    response_links,
)
from musicrec.errors import ApplicationError
from musicrec.jsonstream import json_download
from musicrec.throttling import StrictScopedRateThrottle


def profile_data(user: User) -> dict[str, Any]:
    context = {
        "preferences": selectors.listener_preferences(user=user),
        # the keys other apps add (history: count, limit, remaining), one selector each
        "parts": {name: part.read(user) for name, part in registry.profile_parts.items()},
    }
    return ProfileSerializer(user, context=context).data


class AuthThrottleMixin:
    """Sign-up, sign-in, refresh and logout share the ``auth`` rate (settings) with the sign-in
    pages, counted per client address (these endpoints do not authenticate the caller: the body
    is the credential); sign-in and sign-up also count per account aimed at, at the
    ``auth_account`` rate. Fail closed: with Redis down they answer 503 (musicrec.throttling).
    (The default anonymous and per-user rates cover every other view.)"""

    throttle_classes = [StrictScopedRateThrottle]
    throttle_scope = "auth"
    # JSON bodies only, as every API body: one body in three media types makes generated
    # clients choose, and the schema states the JSON one exactly
    parser_classes = [JSONParser]
    # the request's fields that name an account (a username or an e-mail address)
    throttle_account_fields: tuple[str, ...] = ()

    def throttle_accounts(self, request: Request) -> list[str]:
        data = request.data if isinstance(request.data, Mapping) else {}
        identifiers = [data.get(field) for field in self.throttle_account_fields]
        keys = [
            selectors.listener_rate_limit_key(identifier=identifier)
            for identifier in identifiers
            if isinstance(identifier, str)
        ]
        return [key for key in keys if key]


# What every request body can answer besides its own refusals: a body over the size limit
# (413, before Django reads it) and a content type the view does not parse (415).
BODY_ERRORS = (413, 415)
# The sign-in limits fail closed: over the limit 429, Redis down 503 (musicrec.throttling).
AUTH_LIMITS = (429, 503)
# A listener's own data: signed in (401), with the CSRF token when signed in by session (403),
# within the per-user rate (429).
ME_ERRORS = (401, 403, 429)


# --------------------------------------------------------------------------- auth


class RegisterView(AuthThrottleMixin, APIView):
    """Create a listener account. Answers with the new profile and no tokens: sign in with
    ``POST /api/v1/auth/token/`` next."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_account_fields = ("username", "email")

    @extend_schema(
        request=RegisterSerializer,
        responses={
            201: ProfileSerializer,
            **error_responses(400, 409, *BODY_ERRORS, *AUTH_LIMITS),
        },
        description="Create a listener account. A username or e-mail address another account "
        "has (in any case) is a 409 (`account_exists`, the taken ones in `fields`), whatever "
        "else is wrong; a password the policy refuses for what no schema can say (a common "
        "password, one too like the username or e-mail address) a 400 naming `password`.",
    )
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = services.listener_register(**serializer.validated_data)
        except ValidationError as exc:
            taken = services.registration_conflicts(exc)
            if not taken:
                raise
            raise ApplicationError(
                " ".join(message for name in taken for message in exc.message_dict[name]),
                code="account_exists",
                status=status.HTTP_409_CONFLICT,
                extra={"fields": taken},
            ) from None
        return Response(profile_data(user), status=status.HTTP_201_CREATED)


@extend_schema_view(
    post=extend_schema(
        request=TokenSerializer,
        responses={
            200: TokenSerializer,
            **error_responses(400, 401, *BODY_ERRORS, *AUTH_LIMITS),
        },
        description="A JWT access and refresh token pair. `username` takes a username or an "
        "e-mail address, in any case; wrong credentials are a 401.",
    )
)
class TokenView(AuthThrottleMixin, TokenObtainPairView):
    """A JWT access and refresh token pair. ``username`` takes a username or an e-mail
    address, in any case."""

    serializer_class = TokenSerializer
    throttle_account_fields = ("username",)


@extend_schema_view(
    post=extend_schema(
        responses={
            200: RefreshSerializer,
            **error_responses(400, 401, *BODY_ERRORS, *AUTH_LIMITS),
        },
        description="A new access token and a new refresh token; the refresh token given is "
        "revoked. A refresh token that is not valid (expired, revoked, of an account since "
        "deleted or whose password changed) is a 401.",
    )
)
class TokenRefreshRotateView(AuthThrottleMixin, TokenRefreshView):
    """A new access token and a new refresh token; the refresh token given is blacklisted."""

    serializer_class = RefreshSerializer


class LogoutView(AuthThrottleMixin, APIView):
    """Revoke (blacklist) a refresh token. The token itself is the credential: whoever holds
    it may revoke it, so no access token is needed (it may have expired already). Access tokens
    already issued stay valid until they expire (minutes)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=LogoutSerializer,
        responses={
            205: OpenApiResponse(None, description="Revoked; no body."),
            **error_responses(400, 401, *BODY_ERRORS, *AUTH_LIMITS),
        },
        description="Revoke a refresh token (no access token needed: the refresh token is the "
        "credential). One that is not valid (malformed, expired, already revoked, an access "
        "token) is a 401 `token_not_valid`.",
    )
    def post(self, request: Request) -> Response:
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.refresh_token_revoke(token=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_205_RESET_CONTENT)


# --------------------------------------------------------------------------- me


class MeView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]  # the password of DELETE
    schema = BodyAutoSchema()

    @extend_schema(responses={200: ProfileSerializer, **error_responses(401, 429)})
    def get(self, request: Request) -> Response:
        return Response(profile_data(request.user))

    @extend_schema(
        request=DeleteAccountSerializer,
        responses={204: NO_CONTENT, **error_responses(400, *ME_ERRORS, *BODY_ERRORS)},
        description="Delete the account and everything that belongs to it. The body (JSON, "
        "on DELETE) holds the account's password: a missing one is a 400, a wrong one a 403 "
        "with code `wrong_password`; either way nothing is deleted.",
    )
    def delete(self, request: Request) -> Response:
        serializer = DeleteAccountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.listener_delete(user=request.user, password=serializer.validated_data["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class DemographicsView(APIView):
    """``PUT`` replaces all five fields (a missing one is cleared); ``PATCH`` changes only the
    fields given. One invalid field and nothing is stored."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    def _update(self, request: Request, *, replace: bool) -> Response:
        serializer = DemographicsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        if replace:
            values = {name: values.get(name) for name in serializer.fields}
        user = services.listener_demographics_update(user=request.user, values=values)
        return Response(profile_data(user))

    @extend_schema(
        request=DemographicsInputSerializer,
        responses={200: ProfileSerializer, **error_responses(400, *ME_ERRORS, *BODY_ERRORS)},
        description="Replace all five fields: a missing one is cleared (the time zone goes "
        'back to the site\'s default), as is one given as `null` or `""`.',
    )
    def put(self, request: Request) -> Response:
        return self._update(request, replace=True)

    @extend_schema(
        request=DemographicsInputSerializer,
        responses={200: ProfileSerializer, **error_responses(400, *ME_ERRORS, *BODY_ERRORS)},
        description='Change the fields given (`null` or `""` clears one); the others stay.',
    )
    def patch(self, request: Request) -> Response:
        return self._update(request, replace=False)


class PreferencesView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        request=PreferencesInputSerializer,
        responses={
            200: ProfileSerializer,
            **error_responses(400, *ME_ERRORS, 404, 409, *BODY_ERRORS),
        },
        description="Replace the preferred and disliked genres (ids or slugs; a missing list "
        "is empty). A genre that does not exist is a 404 (`unknown_genre`, the unknown ones "
        "in `unknown` by list); a genre in both lists a 409 (`genre_in_both_lists`). Either "
        "way nothing changes.",
    )
    def put(self, request: Request) -> Response:
        serializer = PreferencesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.listener_preferences_replace(user=request.user, **serializer.validated_data)
        return Response(profile_data(request.user))


class ContextView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        request=ContextInputSerializer,
        responses={200: ProfileSerializer, **error_responses(400, *ME_ERRORS, *BODY_ERRORS)},
        description='Set the current mood and activity; `null`, `""` or a missing key clears one. '
        "`discovery` (0 familiar … 1 new), when given, becomes the default of the "
        "recommendations' discovery knob; missing, it is unchanged.",
    )
    def put(self, request: Request) -> Response:
        serializer = ContextInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():  # both or neither
            user = services.listener_context_update(
                user=request.user, mood=data.get("mood"), activity=data.get("activity")
            )
            if "discovery" in data:
                user = services.listener_discovery_update(user=user, discovery=data["discovery"])
        return Response(profile_data(user))


class BlockListView(APIView):
    """The listener's blocked artists ("not interested in this artist"): a blocked artist's
    tracks never come back in their recommendations."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="v1_me_blocks_list",
        parameters=PAGE_PARAMETERS,
        responses={
            200: paginated(ArtistBlockSerializer, name="ArtistBlock"),
            **error_responses(400, 401, 404, 429),
        },
        description="The blocked artists, the latest first, paginated.",
    )
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.artist_block_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(ArtistBlockSerializer(page, many=True).data)

    @extend_schema(
        request=ArtistBlockInputSerializer,
        responses={
            201: ArtistBlockSerializer,
            200: OpenApiResponse(
                ArtistBlockSerializer, description="Already blocked: the block as it was."
            ),
            **error_responses(400, *ME_ERRORS, 404, *BODY_ERRORS),
        },
        description="Block an artist: none of their tracks comes back in the recommendations "
        "(the next list is computed without them). An unknown artist is a 404 "
        "(`unknown_artist`); an artist already blocked answers 200 with the existing block.",
        extensions=response_links(
            {
                201: {"Unblock": Link("v1_me_blocks_destroy", artist_id="#/artist/id")},
                200: {"Unblock": Link("v1_me_blocks_destroy", artist_id="#/artist/id")},
            }
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = ArtistBlockInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        artist_id = serializer.validated_data["artist_id"]
        existed = selectors.artist_blocked(user=request.user, artist_id=artist_id)
        block = services.artist_block(user=request.user, artist_id=artist_id)
        return Response(
            ArtistBlockSerializer(block).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


class BlockView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="v1_me_blocks_destroy",
        parameters=[
            OpenApiParameter(
                "artist_id",
                {"type": "integer", "minimum": 1, "maximum": ID_MAX},
                location=OpenApiParameter.PATH,
                description="The blocked artist's id.",
            )
        ],
        request=None,
        responses={204: NO_CONTENT, **error_responses(*ME_ERRORS, 404)},
        description="Unblock an artist. One that is not blocked is a 404 (`not_blocked`).",
    )
    def delete(self, request: Request, artist_id: int) -> Response:
        if not services.artist_unblock(user=request.user, artist_id=artist_id):
            raise ApplicationError("This artist is not blocked.", code="not_blocked", status=404)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [StrictScopedRateThrottle]
    throttle_scope = "exports"
    renderer_classes = [JSONRenderer]  # a download: always JSON

    @extend_schema(
        responses={
            200: OpenApiResponse(
                ExportSerializer,
                description="A JSON attachment (`Content-Disposition: attachment; "
                'filename="musicrec-<username>-<date>.json"`), streamed.',
            ),
            **error_responses(401, 429, 503),
        },
        description="Everything stored about the listener, as a JSON attachment. Exports are "
        "rate-limited per listener (429); the limit fails closed (503 with Redis down).",
    )
    def get(self, request: Request) -> HttpResponseBase:
        filename = f"musicrec-{request.user.username}-{timezone.localdate():%Y-%m-%d}.json"
        # streamed: the interaction log can be long (musicrec.jsonstream)
        export = selectors.listener_export(user=request.user)
        return json_download(request._request, export, filename=filename)
