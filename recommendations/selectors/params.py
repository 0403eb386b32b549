"""The engine's parameters as the site configures them (``settings.RECOMMENDER``): the one
reader that training, serving and the offline evaluation share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from recommendations.engine.ensemble import Calibration, EnsembleParams, WeightParams
from recommendations.engine.training import PredictorParams, TrainingParams


def recommender_params() -> tuple[TrainingParams, PredictorParams, EnsembleParams]:
    """The engine's parameters from ``settings.RECOMMENDER`` (``{"training": …,
    "predictors": …, "ensemble": {…, "weights": …, "calibration": {"knots", "values"}}}``),
    each key a field of the dataclass; a missing key keeps the dataclass default."""
    config: Mapping[str, Any] = getattr(settings, "RECOMMENDER", {}) or {}
    ensemble = dict(config.get("ensemble", {}))
    weights = WeightParams(**ensemble.pop("weights", {}))
    calibration = ensemble.pop("calibration", None)
    if calibration is not None:
        ensemble["calibration"] = Calibration(
            knots=tuple(calibration["knots"]), values=tuple(calibration["values"])
        )
    return (
        TrainingParams(**config.get("training", {})),
        PredictorParams(**config.get("predictors", {})),
        EnsembleParams(weights=weights, **ensemble),
    )


def training_params() -> TrainingParams:
    """``RECOMMENDER["training"]`` over the engine's defaults."""
    return recommender_params()[0]
