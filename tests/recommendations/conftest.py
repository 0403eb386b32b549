"""Fixtures of the recommender's database tests."""

from __future__ import annotations

import pytest

from musicrec.demo import demo_listeners
from recommendations.models import ModelStatus, ModelVersion
from recommendations.services.vector_indexes import version_indexes_drop
from tests.recommendations.vector_helpers import SmallModel, small_model


@pytest.fixture(scope="module")
def retired_model(django_db_setup, django_db_blocker) -> SmallModel:
    """A small real ALS model of 120 demo listeners on the demo catalog, committed once per
    module as a *retired* version (fitting and writing its vectors into the HNSW indexes costs
    ~10 s); removed with its listeners afterwards. Tests that need it active use
    :func:`trained_model`."""
    with django_db_blocker.unblock():
        model = small_model(status=ModelStatus.RETIRED)
    yield model
    with django_db_blocker.unblock():
        version_indexes_drop(version_ids=[model.version.pk])
        ModelVersion.objects.filter(pk=model.version.pk).delete()
        demo_listeners().delete()


@pytest.fixture
def trained_model(retired_model: SmallModel, db) -> SmallModel:
    """:func:`retired_model`, active for this test only (the switch is rolled back with it)."""
    ModelVersion.objects.filter(pk=retired_model.version.pk).update(status=ModelStatus.ACTIVE)
    return retired_model
