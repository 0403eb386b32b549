"""The fail-closed rate-limit primitive (musicrec/throttling.py) against the real Redis."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings

from musicrec.errors import ApplicationError
from musicrec.throttling import (
    Limit,
    Rate,
    client_address,
    rate_limit_attempt,
    upload_rate_limit,
)


@pytest.mark.parametrize(
    ("text", "count", "seconds"),
    [
        ("20/minute", 20, 60),
        ("10/15m", 10, 900),
        ("10/15min", 10, 900),
        ("3/hour", 3, 3600),
        ("100/day", 100, 86400),
        ("5/s", 5, 1),
        ("2/2hours", 2, 7200),
    ],
)
def test_rates_are_read_in_drf_form_with_an_optional_number_of_units(text, count, seconds):
    assert Rate.parse(text) == Rate(count=count, seconds=seconds)


@pytest.mark.parametrize("text", ["", "ten/minute", "0/minute", "5/0m", "5/15", "5/week"])
def test_a_rate_that_cannot_be_read_is_a_configuration_error(text):
    with pytest.raises(ImproperlyConfigured):
        Rate.parse(text)


def test_an_attempt_over_the_rate_is_refused_with_the_time_to_wait(throttle_rates):
    # given
    throttle_rates(test_scope="2/minute")
    limit = [Limit("test_scope", "addr:192.0.2.1")]

    # when
    verdicts = [rate_limit_attempt(limits=limit) for _ in range(3)]

    # then
    assert [v.allowed for v in verdicts] == [True, True, False]
    assert 55 <= verdicts[2].retry_after <= 60
    assert rate_limit_attempt(limits=[Limit("test_scope", "addr:192.0.2.2")]).allowed


def test_an_attempt_is_counted_on_every_key_or_on_none(throttle_rates):
    # given an account whose budget is used up
    throttle_rates(test_scope="5/minute", test_scope_account="1/minute")
    account = Limit("test_scope_account", "key:user:1")
    assert rate_limit_attempt(limits=[Limit("test_scope", "addr:192.0.2.9"), account]).allowed

    # when two more attempts on it are refused
    for _ in range(2):
        assert not rate_limit_attempt(
            limits=[Limit("test_scope", "addr:192.0.2.1"), account]
        ).allowed

    # then they cost their address nothing: it still has all its five attempts
    alone = [rate_limit_attempt(limits=[Limit("test_scope", "addr:192.0.2.1")]) for _ in range(6)]
    assert [v.allowed for v in alone] == [True] * 5 + [False]


def _request(forwarded: str | None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", **extra)


def test_forwarded_for_is_ignored_unless_proxies_are_configured():
    assert client_address(_request("203.0.113.7")) == "10.0.0.5"
    assert client_address(_request(None)) == "10.0.0.5"


def test_with_one_proxy_the_address_it_appended_counts():
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}):
        # the client wrote "1.2.3.4"; our proxy appended the address it saw
        assert client_address(_request("1.2.3.4, 198.51.100.20")) == "198.51.100.20"
        assert client_address(_request("198.51.100.20")) == "198.51.100.20"


@pytest.mark.django_db
def test_the_upload_limit_for_pages_shares_the_apis_budget(throttle_rates, listener, listener_api):
    # given one upload an hour, used by the web upload page
    throttle_rates(imports="1/hour")
    request = RequestFactory().post("/history/imports/")
    request.user = listener
    upload_rate_limit(request)

    # when the page and the API try again
    with pytest.raises(ApplicationError) as refused:
        upload_rate_limit(request)
    api = listener_api.post("/api/v1/imports/", {}, format="multipart")

    # then both are refused
    assert refused.value.status == 429
    assert "Too many attempts" in refused.value.message
    assert api.status_code == 429
