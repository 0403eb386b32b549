"""Listener API: registration, JWT sign-in, and the caller's own profile (``/me/…``).

Thin views: parse with a serializer, call one service or selector, serialise the result.
Every ``/me/`` view works on ``request.user`` only; there are no per-id listener URLs, so one
listener cannot address another's data.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts import selectors, services
from accounts.api.serializers import (
    ContextInputSerializer,
    DeleteAccountSerializer,
    DemographicsInputSerializer,
    LogoutSerializer,
    PreferencesInputSerializer,
    ProfileSerializer,
    RefreshSerializer,
    RegisterSerializer,
)
from accounts.models import User
from history.selectors import history_summary
from musicrec.api.schema import ERROR_RESPONSE, FIELD_ERRORS


def profile_data(user: User) -> dict[str, Any]:
    context = {
        "preferences": selectors.listener_preferences(user=user),
        "history": history_summary(user=user),  # count, limit, remaining
    }
    return ProfileSerializer(user, context=context).data


class AuthThrottleMixin:
    """Sign-up, sign-in, refresh and logout share the ``auth`` rate (settings), counted per
    client address: these endpoints do not authenticate the caller, the body is the
    credential. (The default anonymous and per-user rates cover every other view.)"""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


# --------------------------------------------------------------------------- auth


class RegisterView(AuthThrottleMixin, APIView):
    """Create a listener account. Answers with the new profile and no tokens: sign in with
    ``POST /api/v1/auth/token/`` next."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=RegisterSerializer,
        responses={201: ProfileSerializer, 400: FIELD_ERRORS, 429: ERROR_RESPONSE},
    )
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.listener_register(**serializer.validated_data)
        return Response(profile_data(user), status=status.HTTP_201_CREATED)


@extend_schema_view(
    post=extend_schema(
        responses={200: TokenObtainPairSerializer, 401: ERROR_RESPONSE, 429: ERROR_RESPONSE}
    )
)
class TokenView(AuthThrottleMixin, TokenObtainPairView):
    """A JWT access and refresh token pair. ``username`` takes a username or an e-mail
    address, in any case."""


@extend_schema_view(
    post=extend_schema(responses={200: RefreshSerializer, 401: ERROR_RESPONSE, 429: ERROR_RESPONSE})
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
        responses={205: None, 400: ERROR_RESPONSE, 429: ERROR_RESPONSE},
    )
    def post(self, request: Request) -> Response:
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.refresh_token_revoke(token=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_205_RESET_CONTENT)


# --------------------------------------------------------------------------- me


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: ProfileSerializer, 401: ERROR_RESPONSE})
    def get(self, request: Request) -> Response:
        return Response(profile_data(request.user))

    @extend_schema(
        request=DeleteAccountSerializer,
        responses={204: None, 400: ERROR_RESPONSE, 401: ERROR_RESPONSE},
        description="Delete the account and everything that belongs to it. A missing password "
        "is a 400 with code `password_required`, a wrong one a 400 with code `wrong_password`; "
        "either way nothing is deleted.",
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
        responses={200: ProfileSerializer, 400: FIELD_ERRORS, 401: ERROR_RESPONSE},
    )
    def put(self, request: Request) -> Response:
        return self._update(request, replace=True)

    @extend_schema(
        request=DemographicsInputSerializer,
        responses={200: ProfileSerializer, 400: FIELD_ERRORS, 401: ERROR_RESPONSE},
    )
    def patch(self, request: Request) -> Response:
        return self._update(request, replace=False)


class PreferencesView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PreferencesInputSerializer,
        responses={200: ProfileSerializer, 400: FIELD_ERRORS, 401: ERROR_RESPONSE},
        description="Replace the preferred and disliked genres (ids or slugs). Unknown genres, "
        "or a genre in both lists, are a 400 naming them.",
    )
    def put(self, request: Request) -> Response:
        serializer = PreferencesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.listener_preferences_replace(user=request.user, **serializer.validated_data)
        return Response(profile_data(request.user))


class ContextView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ContextInputSerializer,
        responses={200: ProfileSerializer, 400: FIELD_ERRORS, 401: ERROR_RESPONSE},
        description='Set the current mood and activity; `null`, `""` or a missing key clears one.',
    )
    def put(self, request: Request) -> Response:
        serializer = ContextInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.listener_context_update(
            user=request.user,
            mood=serializer.validated_data.get("mood"),
            activity=serializer.validated_data.get("activity"),
        )
        return Response(profile_data(user))


class ExportView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]  # a download: always JSON

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT, 401: ERROR_RESPONSE},
        description="Everything stored about the listener, as a JSON attachment.",
    )
    def get(self, request: Request) -> Response:
        data = selectors.listener_export(user=request.user)
        filename = f"musicrec-{request.user.username}-{timezone.localdate():%Y-%m-%d}.json"
        return Response(
            data,
            headers={
                "Content-Disposition": content_disposition_header(True, filename),
                "Cache-Control": "no-store",
            },
        )
