"""The experiments' statistics (recommendations.engine.experiments), against hand computations
and published values."""

from __future__ import annotations

import numpy as np
import pytest

from recommendations.engine.experiments import (
    BETTER,
    NO_DIFFERENCE,
    NOT_ENOUGH,
    WORSE,
    Interval,
    binomial_two_sided_p,
    difference_verdict,
    mean_interval,
    newcombe_difference,
    preference_verdict,
    ratio_difference_bootstrap,
    ratio_difference_delta,
    wilson_interval,
)


def test_wilson_interval_of_3_in_10_by_hand():
    # p = 0.3, z² = 3.8415; centre = 0.3 + 3.8415 / 20 = 0.49207
    # spread = 1.96 · √(0.3 · 0.7 / 10 + 3.8415 / 400) = 1.96 · √0.030604 = 0.34287
    # scale = 1 + 3.8415 / 10 = 1.38415 → [0.14920 / 1.38415, 0.83495 / 1.38415]
    interval = wilson_interval(3, 10)
    assert interval.value == pytest.approx(0.3)
    assert interval.low == pytest.approx(0.10779, abs=1e-4)
    assert interval.high == pytest.approx(0.60322, abs=1e-4)


def test_wilson_interval_stays_inside_0_and_1_and_needs_a_trial():
    none = wilson_interval(0, 5)
    assert none.low == 0.0 and 0 < none.high < 0.5
    every = wilson_interval(5, 5)
    assert every.high == 1.0 and 0.5 < every.low < 1
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(6, 5)


def test_newcombe_difference_matches_newcombes_paper():
    # Newcombe (1998), Table II, example (a): 56/70 against 48/80 → 0.2, [0.0524, 0.3339]
    interval = newcombe_difference((48, 80), (56, 70))
    assert interval.value == pytest.approx(0.2)
    assert interval.low == pytest.approx(0.0524, abs=1e-4)
    assert interval.high == pytest.approx(0.3339, abs=1e-4)
    assert newcombe_difference((0, 0), (1, 2)) is None


def test_mean_interval_by_hand():
    # values 0.5, 1.0, 0.75: mean 0.75; variance (1.8125 − 3 · 0.5625) / 2 = 0.0625;
    # half width 1.96 · √(0.0625 / 3) = 0.28290 → [0.4671, 1.0329 clipped to 1]
    interval = mean_interval(2.25, 1.8125, 3)
    assert interval.value == pytest.approx(0.75)
    assert interval.low == pytest.approx(0.75 - 0.28290, abs=1e-5)
    assert interval.high == 1.0
    assert mean_interval(0.5, 0.25, 1) == Interval(0.5, 0.5, 0.5)
    assert mean_interval(0.0, 0.0, 0) is None


def test_exact_binomial_p_values_by_hand():
    # 9 of 10: 2 · P(X ≤ 1) = 2 · (1 + 10) / 1024
    assert binomial_two_sided_p(9, 10) == pytest.approx(22 / 1024)
    assert binomial_two_sided_p(1, 10) == pytest.approx(22 / 1024)
    # 2 of 3: 2 · P(X ≤ 1) = 2 · 4 / 8 = 1
    assert binomial_two_sided_p(2, 3) == 1.0
    assert binomial_two_sided_p(5, 10) == 1.0
    assert binomial_two_sided_p(0, 0) == 1.0


def test_bootstrap_over_listeners_collapses_when_every_listener_is_alike():
    # every control listener clicked 1 of 4, every variant listener 2 of 4: each resample of
    # listeners gives exactly 0.5 − 0.25
    control = (np.full(30, 1.0), np.full(30, 4.0))
    variant = (np.full(40, 2.0), np.full(40, 4.0))
    interval = ratio_difference_bootstrap(control, variant, resamples=200)
    assert (interval.value, interval.low, interval.high) == pytest.approx((0.25, 0.25, 0.25))


def test_bootstrap_is_repeatable_and_close_to_the_delta_method():
    rng = np.random.default_rng(3)
    served_a, served_b = rng.integers(1, 30, 400), rng.integers(1, 30, 400)
    control = (rng.binomial(served_a, 0.2), served_a)
    variant = (rng.binomial(served_b, 0.25), served_b)
    boot = ratio_difference_bootstrap(control, variant, resamples=2000, seed=1)
    assert boot == ratio_difference_bootstrap(control, variant, resamples=2000, seed=1)
    delta = ratio_difference_delta(control, variant)
    assert boot.value == pytest.approx(delta.value)
    assert boot.high - boot.low == pytest.approx(delta.high - delta.low, rel=0.15)
    assert boot.low < boot.value < boot.high


def test_listeners_not_tracks_are_the_unit():
    # the same 100 clicks in 400 tracks against 200 in 400: spread over 100 listeners each
    # alike, or carried by a few listeners — the interval over listeners is wider in the second
    alike = ((np.full(100, 1.0), np.full(100, 4.0)), (np.full(100, 2.0), np.full(100, 4.0)))
    lumpy = (
        (np.r_[np.full(25, 4.0), np.zeros(75)], np.full(100, 4.0)),
        (np.r_[np.full(50, 4.0), np.zeros(50)], np.full(100, 4.0)),
    )
    narrow = ratio_difference_delta(*alike)
    wide = ratio_difference_delta(*lumpy)
    assert narrow.value == wide.value == pytest.approx(0.25)
    assert wide.high - wide.low > 2 * (narrow.high - narrow.low)


def test_verdicts():
    assert difference_verdict(Interval(0.1, 0.02, 0.2), enough=True) == BETTER
    assert difference_verdict(Interval(-0.1, -0.2, -0.01), enough=True) == WORSE
    assert difference_verdict(Interval(0.1, -0.01, 0.2), enough=True) == NO_DIFFERENCE
    assert difference_verdict(Interval(0.1, 0.02, 0.2), enough=False) == NOT_ENOUGH
    assert difference_verdict(None, enough=True) == NOT_ENOUGH
    assert preference_verdict(9, 1, enough=True) == BETTER
    assert preference_verdict(1, 9, enough=True) == WORSE
    assert preference_verdict(6, 4, enough=True) == NO_DIFFERENCE
    assert preference_verdict(9, 1, enough=False) == NOT_ENOUGH
