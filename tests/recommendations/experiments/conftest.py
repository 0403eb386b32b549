"""Fixtures of the experiment report tests: hand-made experiments (built in test_report.py,
where their figures are computed by hand) and a minimum low enough for them."""

from __future__ import annotations

import pytest

from tests.recommendations.experiments.test_report import (
    make_interleaved_data,
    make_split_data,
    report_minimum_lower,
)


@pytest.fixture
def low_minimum(settings):
    """Two lists and two listeners per variant are enough (the fixture data are small)."""
    report_minimum_lower(settings)


@pytest.fixture
def split_data(db):
    return make_split_data()


@pytest.fixture
def interleaved_data(db):
    return make_interleaved_data()
