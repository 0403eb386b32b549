"""The contract of the staff-only operations, answered to staff: ``test_contract.py`` calls every
operation as a listener (a staff operation then answers 401 or 403, which it checks); here a
staff member's answers — the figures themselves, and a 404 for an unknown id — are held to the
same schema with every check."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import settings

from tests.api.conftest import bearer
from tests.api.test_contract import HYPOTHESIS, ListenerBearer, call_and_check, schema, sign_in
from tests.recommendations.experiments.test_report import (
    _experiment,
    make_interleaved_data,
    make_split_data,
    report_minimum_lower,
)

REPORT = "/api/v1/experiments/{id}/report/"


@pytest.fixture
def staff_signed_in(in_process_app, lifted_rate_limits, curator):
    """The harness's token (``test_contract.ListenerBearer``) is a staff member's here."""
    ListenerBearer.token = bearer(curator)
    try:
        yield curator
    finally:
        ListenerBearer.token = None


@pytest.mark.parametrize("make", [make_split_data, make_interleaved_data, _experiment])
def test_a_report_answers_staff_as_documented(staff_signed_in, settings, make):
    report_minimum_lower(settings)
    experiment = make()
    case = schema[REPORT]["GET"].Case(
        path_parameters={"id": experiment.pk},
        headers={"Authorization": f"Bearer {ListenerBearer.PLACEHOLDER}"},
    )
    sign_in(case)
    with transaction.atomic():
        response = case.call()
        case.validate_response(response)
    assert response.status_code == 200
    assert response.json()["experiment_id"] == experiment.pk


@schema.include(path_regex=r"^/api/v1/experiments/").parametrize()
@settings(**HYPOTHESIS)
def test_every_staff_answer_matches_the_schema(case, staff_signed_in):
    call_and_check(case)
