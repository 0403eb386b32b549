"""Domain errors on pages are handled one way (musicrec.pages.ApplicationErrorMiddleware)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from musicrec.errors import ApplicationError
from musicrec.pages import ApplicationErrorMiddleware, safe_next


def _request(method: str, path: str, data=None, **headers) -> HttpRequest:
    factory = RequestFactory()
    request = getattr(factory, method)(path, data or {}, **headers)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _raise(error: ApplicationError):
    def view(request: HttpRequest) -> HttpResponse:
        raise error

    return view


def _answer(request: HttpRequest, error: ApplicationError) -> HttpResponse | None:
    middleware = ApplicationErrorMiddleware(_raise(error))
    return middleware.process_exception(request, error)


@pytest.mark.django_db
def test_a_refused_post_redirects_back_with_the_message_on_top():
    request = _request("post", "/history/add/", {"next": "/search/?q=abba"})

    response = _answer(request, ApplicationError("Your history is full (50 tracks)."))

    assert response.status_code == 302
    assert response["Location"] == "/search/?q=abba"
    assert [str(m) for m in get_messages(request)] == ["Your history is full (50 tracks)."]


@pytest.mark.django_db
def test_without_next_a_refused_post_goes_back_to_the_same_site_referrer():
    request = _request("post", "/history/clear/", HTTP_REFERER="http://testserver/history/?page=2")

    response = _answer(request, ApplicationError("No."))

    assert response["Location"] == "/history/?page=2"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_a_foreign_next_or_referrer_is_never_followed(target):
    request = _request("post", "/history/clear/", {"next": target}, HTTP_REFERER=target)

    response = _answer(request, ApplicationError("No."))

    assert response["Location"] == "/"


@pytest.mark.django_db
def test_not_found_is_the_404_page_with_the_message():
    request = _request("get", "/history/imports/9/")

    response = _answer(request, ApplicationError("No import with this id.", status=404))

    assert response.status_code == 404
    assert "No import with this id." in response.content.decode()


@pytest.mark.django_db
def test_other_refusals_of_a_get_are_an_error_page_with_their_status():
    request = _request("get", "/somewhere/")

    response = _answer(request, ApplicationError("<b>Not now</b>", status=409))

    assert response.status_code == 409
    assert "&lt;b&gt;Not now&lt;/b&gt;" in response.content.decode()  # escaped


def test_api_paths_are_left_to_the_api_handler():
    request = RequestFactory().post("/api/v1/history/")

    assert _answer(request, ApplicationError("No.")) is None


def test_safe_next_keeps_own_urls_only():
    request = RequestFactory().post("/x/", {"next": "/history/"})
    assert safe_next(request, default="/d/") == "/history/"
    request = RequestFactory().post("/x/", {"next": "http://other/"})
    assert safe_next(request, default="/d/") == "/d/"
