"""Listener pages: sign-up/in/out, password change and reset, onboarding, profile, export and
account deletion.

Thin: forms parse, ``accounts.services`` validate and write, ``accounts.selectors`` read. Every
page acts on ``request.user`` only; no URL here names a listener, so there is nothing to point
at someone else's data.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from accounts import selectors, services
from accounts.forms import (
    ContextForm,
    DeleteAccountForm,
    DemographicsForm,
    PreferencesForm,
    SignInForm,
    SignUpForm,
    add_service_errors,
)
from accounts.throttling import password_reset_rate_limit, sign_in_rate_limit
from musicrec.errors import ApplicationError
from musicrec.jsonstream import json_download
from musicrec.pages import form_errors_text, post_only
from musicrec.throttling import rate_limit, refusal_status

ONBOARDING_STEPS = 2


def _data(request: HttpRequest):
    """The submitted data on a POST (even an empty one), None on a GET: bound or unbound."""
    return request.POST if request.method == "POST" else None


# --------------------------------------------------------------------------- account
@sensitive_post_parameters("password1", "password2")
@never_cache
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("catalog:home")
    form = SignUpForm(_data(request))
    status = 200
    if request.method == "POST" and form.is_valid():
        username, email = form.cleaned_data["username"], form.cleaned_data["email"]
        try:
            # counted before the service looks the names up: it tells which ones are taken
            sign_in_rate_limit(request, identifiers=[username, email])
            user = services.listener_register(
                username=username, email=email, password=form.cleaned_data["password1"]
            )
        except ApplicationError as exc:
            form.add_error(None, ValidationError(exc.message, code=exc.code))
            status = exc.status
        except ValidationError as exc:
            add_service_errors(form, exc, rename=SignUpForm.service_fields)
        else:
            login(request, user, backend="accounts.backends.UsernameOrEmailBackend")
            messages.success(request, f"Welcome to musicrec, {user.username}!")
            return redirect("accounts:onboarding")
    return render(request, "accounts/signup.html", {"form": form}, status=status)


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    authentication_form = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        # 429/503 for an attempt the rate limit refused (SignInForm), 200 for a wrong password
        response = super().form_invalid(form)
        response.status_code = refusal_status(form) or response.status_code
        return response

    def get_default_redirect_url(self) -> str:
        # A listener who never saw onboarding (e.g. closed the tab after signing up) gets it
        # now; curators are here for the admin, not for genre preferences.
        user = self.request.user
        if user.onboarded_at is None and not user.is_staff:
            return reverse("accounts:onboarding")
        return super().get_default_redirect_url()


class SignOutView(auth_views.LogoutView):
    """POST only (Django's LogoutView answers a GET with 405)."""

    next_page = "catalog:home"

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            services.listener_signed_out(user=request.user, session_key=request.session.session_key)
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are signed out.")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    # Our own template name: registration/password_change_form.html is also the admin's.
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        response = super().form_valid(form)  # saves, and moves this session to a new key
        services.listener_password_changed(
            user=form.user, keep_session_key=self.request.session.session_key
        )
        messages.success(
            self.request,
            "Your password was changed. You were signed out everywhere else.",
        )
        return response


class PasswordResetView(auth_views.PasswordResetView):
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        """Counted per client address and per e-mail address before any mail is sent; a
        refused request shows why (429, or 503 when the limits cannot be checked)."""
        try:
            password_reset_rate_limit(self.request, email=form.cleaned_data["email"])
        except ApplicationError as exc:
            form.add_error(None, ValidationError(exc.message, code=exc.code))
            return self.render_to_response(self.get_context_data(form=form), status=exc.status)
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # Whoever knew the old password (or held a session or token) is out now.
        services.listener_password_changed(user=form.user, keep_session_key=None)
        return response


# --------------------------------------------------------------------------- onboarding
def _onboarding_context(step: int, **context) -> dict:
    return {"step": step, "steps": ONBOARDING_STEPS, **context}


@login_required
@require_http_methods(["GET", "POST"])
def onboarding_about(request: HttpRequest) -> HttpResponse:
    """Step 1: demographics. "Skip" moves on without saving anything."""
    user = request.user
    if request.method == "POST" and "skip" in request.POST:
        return redirect("accounts:onboarding_genres")
    form = DemographicsForm(_data(request), initial=DemographicsForm.initial_for(user))
    if request.method == "POST" and form.is_valid():
        try:
            services.listener_demographics_update(user=user, values=form.service_values())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("accounts:onboarding_genres")
    return render(
        request,
        "accounts/onboarding_about.html",
        _onboarding_context(
            1,
            form=form,
            # let the page preselect the browser's zone while the site's default is unchanged
            suggest_time_zone=not form.is_bound and user.time_zone == settings.TIME_ZONE,
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def onboarding_genres(request: HttpRequest) -> HttpResponse:
    """Step 2: preferred and disliked genres. Finishing or skipping ends onboarding."""
    user = request.user
    if request.method == "POST" and "skip" in request.POST:
        services.listener_onboarding_finish(user=user)
        messages.info(request, "You can pick genres any time on your profile.")
        return redirect("catalog:home")
    initial = PreferencesForm.initial_for(selectors.listener_preferences(user=user))
    form = PreferencesForm(_data(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.listener_preferences_set(
                user=user,
                preferred=form.cleaned_data["preferred"],
                disliked=form.cleaned_data["disliked"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            services.listener_onboarding_finish(user=user)
            # #12: "/" is now the listener's list
            messages.success(request, "All set: here are your first recommendations.")
            return redirect("catalog:home")
    return render(request, "accounts/onboarding_genres.html", _onboarding_context(2, form=form))


# --------------------------------------------------------------------------- profile
def _profile_page(request: HttpRequest, *, status: int = 200, **bound) -> HttpResponse:
    """The profile page; ``bound`` holds a submitted form that did not validate, so it is shown
    with its errors and what was typed while the other forms show what is stored."""
    for form in bound.values():
        # at the top of the page, where it is seen; the errors stay next to their fields too
        messages.error(request, f"Nothing was saved. {form_errors_text(form)}")
    user = request.user
    preferences = selectors.listener_preferences(user=user)
    has_demographics = any((user.age, user.gender, user.country, user.occupation))
    has_preferences = bool(preferences["preferred"] or preferences["disliked"])
    context = {
        "demographics_form": DemographicsForm(initial=DemographicsForm.initial_for(user)),
        "context_form": ContextForm(initial=ContextForm.initial_for(user)),
        "preferences_form": PreferencesForm(initial=PreferencesForm.initial_for(preferences)),
        "preferences": preferences,
        "missing_demographics": not has_demographics,
        "missing_preferences": not has_preferences,
        **bound,
    }
    return render(request, "accounts/profile.html", context, status=status)


@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    return _profile_page(request)


@login_required
@post_only("accounts:profile", anchor="about")
def profile_demographics(request: HttpRequest) -> HttpResponse:
    form = DemographicsForm(request.POST)
    if form.is_valid():
        try:
            services.listener_demographics_update(user=request.user, values=form.service_values())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your details were saved.")
            return redirect(reverse("accounts:profile") + "#about")
    return _profile_page(request, demographics_form=form)


@login_required
@post_only("accounts:profile", anchor="context")
def profile_context(request: HttpRequest) -> HttpResponse:
    form = ContextForm(request.POST)
    if form.is_valid():
        try:
            services.listener_context_update(
                user=request.user,
                mood=form.cleaned_data["mood"] or None,
                activity=form.cleaned_data["activity"] or None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your listening context was saved.")
            return redirect(reverse("accounts:profile") + "#context")
    return _profile_page(request, context_form=form)


@login_required
@post_only("accounts:profile", anchor="genres")
def profile_preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST)
    if form.is_valid():
        try:
            services.listener_preferences_set(
                user=request.user,
                preferred=form.cleaned_data["preferred"],
                disliked=form.cleaned_data["disliked"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            services.listener_onboarding_finish(user=request.user)
            messages.success(request, "Your genres were saved.")
            return redirect(reverse("accounts:profile") + "#genres")
    return _profile_page(request, preferences_form=form)


@never_cache
@login_required
@require_GET
def profile_export(request: HttpRequest) -> HttpResponse:
    rate_limit(request, scope="exports")  # shared with the API's export
    filename = f"musicrec-data-{timezone.localdate():%Y-%m-%d}.json"
    # streamed: the interaction log can be long (musicrec.jsonstream)
    return json_download(request, selectors.listener_export(user=request.user), filename=filename)


@sensitive_post_parameters("password")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.listener_delete(user=request.user, password=form.cleaned_data["password"])
        except ApplicationError as exc:
            form.add_error("password", exc.message)
        else:
            logout(request)
            messages.success(request, "Your account and all its data were deleted. Goodbye!")
            return redirect("catalog:home")
    return render(request, "accounts/delete.html", {"form": form})
