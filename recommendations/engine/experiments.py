"""Ranking experiments, the engine's part (plain numpy, no Django): what a variant may change and
how it changes :class:`~.ensemble.EnsembleParams`, team-draft interleaving of two rankings, and
how feedback on an interleaved list is credited.

A variant's ``parameters`` (``recommendations.models.ExperimentVariant``) is a small mapping::

    {"weights": {"content": 0.15, …},   # fields of WeightParams (≥ 0; history_scale > 0)
     "discovery": 0.7,                   # default discovery (listeners who never moved theirs)
     "relevance": 0.9,                   # variety strength: EnsembleParams.relevance, 0–1
     "context_strength": 0.3, "max_run": 3, "artist_limit": 2, "artist_window": 10,
     "artist_prior": 5, "pool": 100,     # other EnsembleParams fields
     "predictors": {"content": false}}   # a predictor off (its weight, and a floor, 0)

:func:`variant_parameters_clean` checks one and returns it normalised (or raises
:class:`VariantParametersError` naming every problem); :func:`parameters_touched` names the
parameters it changes (a listener is in at most one running experiment per parameter);
:func:`variant_params` applies it to the site's parameters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from .ensemble import SOURCES, EnsembleParams, WeightParams

#: Ensemble fields a variant may set, each with (type, lowest, highest, may be None).
_ENSEMBLE_FIELDS: dict[str, tuple[type, float, float, bool]] = {
    "pool": (int, 10, 2000, False),
    "context_strength": (float, 0.0, 1.0, False),
    "max_run": (int, 1, 100, False),
    "relevance": (float, 0.0, 1.0, False),
    "artist_limit": (int, 1, 100, True),
    "artist_window": (int, 1, 100, False),
    "artist_prior": (float, 0.0, 1000.0, True),
}
_WEIGHT_FIELDS = tuple(f.name for f in fields(WeightParams))
_KEYS = ("weights", "discovery", "predictors", *_ENSEMBLE_FIELDS)


class VariantParametersError(ValueError):
    """A variant's parameters are not valid; ``problems`` lists each one in plain words."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def variant_parameters_clean(parameters: Any) -> dict[str, Any]:
    """``parameters`` checked and normalised (numbers as float or int, keys in a fixed order);
    raises :class:`VariantParametersError` listing every problem (unknown key, wrong type,
    out of range, every predictor off)."""
    if parameters is None:
        return {}
    if not isinstance(parameters, Mapping):
        raise VariantParametersError(["parameters must be an object of engine parameters"])
    problems: list[str] = []
    clean: dict[str, Any] = {}
    for key in parameters:
        if key not in _KEYS:
            problems.append(f"unknown parameter {key!r} (known: {', '.join(_KEYS)})")
    weights = parameters.get("weights")
    if weights is not None:
        if not isinstance(weights, Mapping):
            problems.append("weights must be an object of source weights")
        else:
            clean_weights: dict[str, float] = {}
            for name, value in weights.items():
                number = _number(value)
                if name not in _WEIGHT_FIELDS:
                    problems.append(f"unknown weight {name!r} (known: {', '.join(_WEIGHT_FIELDS)})")
                elif number is None or number < 0 or number > 100:
                    problems.append(f"weights.{name} must be a number from 0 to 100")
                elif name == "history_scale" and number <= 0:
                    problems.append("weights.history_scale must be above 0")
                else:
                    clean_weights[name] = number
            if clean_weights:
                clean["weights"] = {name: clean_weights[name] for name in sorted(clean_weights)}
    if "discovery" in parameters:
        number = _number(parameters["discovery"])
        if number is None or not 0.0 <= number <= 1.0:
            problems.append("discovery must be a number from 0 to 1")
        else:
            clean["discovery"] = number
    for name, (kind, low, high, nullable) in _ENSEMBLE_FIELDS.items():
        if name not in parameters:
            continue
        value = parameters[name]
        if value is None and nullable:
            clean[name] = None
            continue
        number = _number(value)
        whole = kind is int and number is not None and number.is_integer()
        if number is None or (kind is int and not whole) or not low <= number <= high:
            what = "a whole number" if kind is int else "a number"
            none = " (or null: no limit)" if nullable else ""
            problems.append(f"{name} must be {what} from {low:g} to {high:g}{none}")
        else:
            clean[name] = int(number) if kind is int else number
    predictors = parameters.get("predictors")
    if predictors is not None:
        if not isinstance(predictors, Mapping):
            problems.append("predictors must be an object of source: true/false")
        else:
            switches: dict[str, bool] = {}
            for name, value in predictors.items():
                if name not in SOURCES:
                    problems.append(f"unknown predictor {name!r} (known: {', '.join(SOURCES)})")
                elif not isinstance(value, bool):
                    problems.append(f"predictors.{name} must be true or false")
                else:
                    switches[name] = value
            if switches and all(not switches.get(name, True) for name in SOURCES):
                problems.append("at least one predictor must stay on")
            if switches:
                clean["predictors"] = {name: switches[name] for name in sorted(switches)}
    if problems:
        raise VariantParametersError(problems)
    return {key: clean[key] for key in _KEYS if key in clean}


def parameters_touched(parameters: Mapping[str, Any]) -> frozenset[str]:
    """The parameters a (clean) variant changes, by name: ``"weights.content"``,
    ``"discovery"``, ``"relevance"`` … A predictor switched off changes its weight:
    ``predictors.content`` → ``"weights.content"`` (popularity's also
    ``"weights.popularity_floor"``)."""
    touched: set[str] = set()
    for key, value in parameters.items():
        if key == "weights":
            touched.update(f"weights.{name}" for name in value)
        elif key == "predictors":
            for name in value:
                touched.add(f"weights.{name}")
                if name == "popularity":
                    touched.add("weights.popularity_floor")
        else:
            touched.add(key)
    return frozenset(touched)


def variant_params(base: EnsembleParams, parameters: Mapping[str, Any]) -> EnsembleParams:
    """``base`` with a clean variant's changes (its ``discovery`` is the caller's: a listener's
    default, not an ensemble parameter)."""
    weights = replace(base.weights, **dict(parameters.get("weights", {})))
    for name, on in dict(parameters.get("predictors", {})).items():
        if not on:
            weights = replace(weights, **{name: 0.0})
            if name == "popularity":
                weights = replace(weights, popularity_floor=0.0)
    changes = {name: parameters[name] for name in _ENSEMBLE_FIELDS if name in parameters}
    return replace(base, weights=weights, **changes)


# --- interleaving -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interleaved:
    """An interleaved list: ``items`` in shown order and, for each, the ``teams`` index (0 or 1)
    of the ranking that contributed it."""

    items: list[int]
    teams: list[int]


def team_draft_interleave(
    first: Sequence[int], second: Sequence[int], n: int, rng: np.random.Generator
) -> Interleaved:
    """Team-draft interleaving (Radlinski, Kurup and Joachims, 2008) of two rankings of item
    ids into at most ``n`` items. In each round the team with fewer picks so far (a coin toss
    when even) adds its highest-ranked item not yet shown; when one ranking runs out the other
    fills the rest. Each item is shown once and belongs to the team that picked it."""
    rankings = (list(first), list(second))
    cursor = [0, 0]
    picks = [0, 0]
    items: list[int] = []
    teams: list[int] = []
    shown: set[int] = set()

    def next_of(team: int) -> int | None:
        ranking = rankings[team]
        while cursor[team] < len(ranking) and ranking[cursor[team]] in shown:
            cursor[team] += 1
        return ranking[cursor[team]] if cursor[team] < len(ranking) else None

    while len(items) < n:
        candidates = (next_of(0), next_of(1))
        if candidates[0] is None and candidates[1] is None:
            break
        if candidates[0] is None:
            team = 1
        elif candidates[1] is None:
            team = 0
        elif picks[0] != picks[1]:
            team = 0 if picks[0] < picks[1] else 1
        else:
            team = int(rng.integers(2))
        item = candidates[team]
        assert item is not None
        items.append(item)
        teams.append(team)
        shown.add(item)
        picks[team] += 1
    return Interleaved(items=items, teams=teams)


def interleaving_credit(teams: Sequence[int], clicked: Sequence[bool]) -> int | None:
    """Which team an impression credits: each clicked item (a play or like of a shown track)
    counts for the team that picked it; the team with more clicks wins (0 or 1). A tie, or no
    click at all, is no preference (None)."""
    counts = [0, 0]
    for team, click in zip(teams, clicked, strict=True):
        if click:
            counts[team] += 1
    if counts[0] == counts[1]:
        return None
    return 0 if counts[0] > counts[1] else 1
