"""Team-draft interleaving and its credit on small cases; a variant's parameters."""

from __future__ import annotations

import numpy as np
import pytest

from recommendations.engine.ensemble import EnsembleParams
from recommendations.engine.experiments import (
    VariantParametersError,
    interleaving_credit,
    parameters_touched,
    team_draft_interleave,
    variant_parameters_clean,
    variant_params,
)


def test_team_draft_takes_turns_and_never_repeats():
    result = team_draft_interleave([1, 2, 3, 4], [2, 5, 1, 6], n=6, rng=np.random.default_rng(0))
    assert len(result.items) == len(set(result.items)) == 6
    assert set(result.items) == {1, 2, 3, 4, 5, 6}
    # after every even number of picks the teams are level
    for end in range(2, 7, 2):
        assert result.teams[:end].count(0) == end // 2
    # each team's picks are in its own ranking's order
    first = [item for item, team in zip(result.items, result.teams, strict=True) if team == 0]
    assert first == sorted(first, key=[1, 2, 3, 4].index)


def test_team_draft_fills_from_the_longer_ranking():
    result = team_draft_interleave([1], [2, 3, 4], n=4, rng=np.random.default_rng(1))
    assert sorted(result.items) == [1, 2, 3, 4]
    assert result.teams.count(1) == 3


@pytest.mark.parametrize(
    ("teams", "clicked", "winner"),
    [
        ([0, 1, 0, 1], [True, False, False, False], 0),
        ([0, 1, 0, 1], [False, True, False, True], 1),
        ([0, 1], [True, True], None),
        ([0, 1], [False, False], None),
    ],
)
def test_credit(teams, clicked, winner):
    assert interleaving_credit(teams, clicked) == winner


def test_variant_parameters():
    clean = variant_parameters_clean(
        {"predictors": {"content": False}, "relevance": 0.9, "weights": {"content": 0.2}}
    )
    assert clean == {
        "weights": {"content": 0.2},
        "predictors": {"content": False},
        "relevance": 0.9,
    }
    assert parameters_touched(clean) == {"weights.content", "relevance"}
    params = variant_params(EnsembleParams(), clean)
    assert params.weights.content == 0.0 and params.relevance == 0.9
    with pytest.raises(VariantParametersError) as error:
        variant_parameters_clean(
            {
                "nope": 1,
                "discovery": 2,
                "max_run": 1.5,
                "predictors": dict.fromkeys(
                    ("collaborative", "content", "demographic", "popularity"), False
                ),
            }
        )
    assert len(error.value.problems) == 4


def test_an_integer_too_large_for_a_float_is_a_problem_not_an_overflow():
    with pytest.raises(VariantParametersError) as raised:
        variant_parameters_clean({"pool": 10**400, "weights": {"content": -(10**400)}})

    assert raised.value.problems == [
        "weights.content must be a number from 0 to 100",
        "pool must be a whole number from 10 to 2000",
    ]
