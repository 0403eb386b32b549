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
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float (valid JSON): out of any range
        return None
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


# --- statistics ---------------------------------------------------------------------------------

#: z of a two-sided 95 % interval (the normal distribution's 97.5th percentile).
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    """An estimate with its 95 % interval ``[low, high]``."""

    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


def wilson_interval(successes: int, trials: int, z: float = Z95) -> Interval | None:
    """The proportion ``successes / trials`` with its Wilson score interval (Wilson, 1927):
    ``(p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)``. Good at small counts and near 0 or
    1, where the plain normal interval leaves [0, 1] or collapses. None without a trial."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    scale = 1 + z2 / trials
    return Interval(
        value=p, low=max(0.0, (centre - spread) / scale), high=min(1.0, (centre + spread) / scale)
    )


def newcombe_difference(
    first: tuple[int, int], second: tuple[int, int], z: float = Z95
) -> Interval | None:
    """The difference ``p2 − p1`` of two independent proportions ``(successes, trials)`` with
    Newcombe's hybrid score interval (1998, method 10), built from the two Wilson intervals
    ``[l1, u1]`` and ``[l2, u2]``: ``d − √((p2−l2)² + (u1−p1)²)`` to
    ``d + √((u2−p2)² + (p1−l1)²)``. Valid when the trials are
    independent units (one per listener); None when either side has none."""
    one = wilson_interval(first[0], first[1], z)
    two = wilson_interval(second[0], second[1], z)
    if one is None or two is None:
        return None
    d = two.value - one.value
    return Interval(
        value=d,
        low=d - math.sqrt((two.value - two.low) ** 2 + (one.high - one.value) ** 2),
        high=d + math.sqrt((two.high - two.value) ** 2 + (one.value - one.low) ** 2),
    )


def mean_interval(total: float, squares: float, count: int, z: float = Z95) -> Interval | None:
    """The mean of ``count`` values in [0, 1] from their sum and sum of squares, with a normal
    interval (sample variance), clipped to [0, 1]. None without a value."""
    if count <= 0:
        return None
    mean = total / count
    variance = max(0.0, (squares - count * mean * mean) / (count - 1)) if count > 1 else 0.0
    half = z * math.sqrt(variance / count)
    return Interval(value=mean, low=max(0.0, mean - half), high=min(1.0, mean + half))


FloatArray = np.ndarray


def _ratio_and_variance(successes: Any, trials: Any) -> tuple[Any, Any]:
    """Along the last axis: the ratio ``Σ successes / Σ trials`` of per-listener counts and its
    delta-method variance ``Σ (s_i − R·t_i)² / ((m − 1) · m · t̄²)`` (listeners the unit)."""
    s = np.asarray(successes, dtype=np.float64)
    t = np.asarray(trials, dtype=np.float64)
    m = s.shape[-1]
    total_t = t.sum(axis=-1)
    ratio = s.sum(axis=-1) / np.maximum(total_t, 1e-12)
    residual = s - ratio[..., None] * t
    mean_t = total_t / m
    variance = (residual**2).sum(axis=-1) / max(m - 1, 1) / (m * np.maximum(mean_t, 1e-12) ** 2)
    return ratio, variance


def ratio_difference_delta(
    control: tuple[Any, Any], variant: tuple[Any, Any], z: float = Z95
) -> Interval | None:
    """The difference of two ratios of sums (``variant − control``; each ``(successes,
    trials)`` per listener, e.g. clicked and served tracks) with the delta-method normal
    interval over listeners (Deng, Knoblich and Lu, 2018): the large-sample form of
    :func:`ratio_difference_bootstrap`, used where that is too slow (the simulation)."""
    if len(control[1]) < 2 or len(variant[1]) < 2:
        return None
    r1, v1 = _ratio_and_variance(*control)
    r2, v2 = _ratio_and_variance(*variant)
    d = float(r2 - r1)
    half = z * math.sqrt(float(v1 + v2))
    return Interval(value=d, low=d - half, high=d + half)


def ratio_difference_bootstrap(
    control: tuple[Any, Any],
    variant: tuple[Any, Any],
    *,
    resamples: int = 1000,
    seed: int = 0,
    chunk: int = 100,
) -> Interval | None:
    """The difference of two ratios of sums (``variant − control``; each ``(successes,
    trials)`` **per listener**) with a percentile bootstrap over listeners: each resample draws
    each arm's listeners with replacement (``resamples`` times, from ``seed``: the same data give
    the same interval) and takes the difference of ``Σ successes / Σ trials``; the interval is
    the 2.5th–97.5th percentiles. Listeners, not served tracks, are resampled: one listener's
    served tracks are correlated (the same taste, the same session), and treating them as
    independent would make the interval too narrow. None when either arm has fewer than 2."""
    arms = []
    for successes, trials in (control, variant):
        s = np.asarray(successes, dtype=np.float64)
        t = np.asarray(trials, dtype=np.float64)
        if len(t) < 2 or t.sum() <= 0:
            return None
        arms.append((s, t))
    rng = np.random.default_rng(seed)
    ratios = np.empty((2, resamples))
    for arm, (s, t) in enumerate(arms):
        m = len(t)
        for start in range(0, resamples, chunk):
            stop = min(start + chunk, resamples)
            picks = rng.integers(m, size=(stop - start, m))
            ratios[arm, start:stop] = s[picks].sum(axis=1) / np.maximum(t[picks].sum(axis=1), 1e-12)
    differences = ratios[1] - ratios[0]
    value = float(arms[1][0].sum() / arms[1][1].sum() - arms[0][0].sum() / arms[0][1].sum())
    low, high = np.percentile(differences, [2.5, 97.5])
    return Interval(value=value, low=float(low), high=float(high))


def binomial_two_sided_p(wins: int, trials: int) -> float:
    """The exact two-sided binomial p-value of ``wins`` in ``trials`` against a fair coin (the
    sign test of interleaving: without a preference each credited impression is a coin toss):
    ``min(1, 2 · P(X ≤ min(k, n − k)))``, X ~ Binomial(n, ½). 1 without a trial."""
    if trials <= 0:
        return 1.0
    from scipy.stats import binom

    return float(min(1.0, 2.0 * binom.cdf(min(wins, trials - wins), trials, 0.5)))


# --- verdicts -------------------------------------------------------------------------------------

#: What a comparison concludes, in words a person reads on the report.
BETTER = "better"
WORSE = "worse"
NO_DIFFERENCE = "no difference shown yet"
NOT_ENOUGH = "not enough data yet"


def difference_verdict(difference: Interval | None, *, enough: bool) -> str:
    """``better`` / ``worse`` when the 95 % interval of (variant − control) lies wholly above /
    below 0, ``no difference shown yet`` when it holds 0, ``not enough data yet`` below the
    minimum (whatever the interval says: an early peek is how false wins are made)."""
    if not enough or difference is None:
        return NOT_ENOUGH
    if difference.low > 0:
        return BETTER
    if difference.high < 0:
        return WORSE
    return NO_DIFFERENCE


def preference_verdict(wins: int, losses: int, *, enough: bool, alpha: float = 0.05) -> str:
    """Interleaving: ``better`` when the first side won significantly more credited impressions
    than the second (exact binomial, two-sided, at ``alpha``), ``worse`` when fewer,
    ``no difference shown yet`` otherwise, ``not enough data yet`` below the minimum."""
    if not enough:
        return NOT_ENOUGH
    if binomial_two_sided_p(wins, wins + losses) >= alpha:
        return NO_DIFFERENCE
    return BETTER if wins > losses else WORSE


# --- simulation: how many impressions each method needs ---------------------------------------


@dataclass(frozen=True)
class ClickModel:
    """Simulated clicks on a served list: a position ``p`` (1-based) is looked at with
    probability ``1 / log2(1 + p)`` (position bias, as DCG assumes); a looked-at track the
    listener truly likes is clicked with probability ``relevant``, any other with ``noise``.
    ``activity``: listeners differ in how much they click at all; each simulated listener's
    probabilities are multiplied by a factor drawn once from a log-normal of mean 1 and this
    spread (σ of its log; 0: every listener alike), capped at 1."""

    relevant: float = 0.9
    noise: float = 0.02
    activity: float = 0.0

    def activity_factors(self, listeners: int, rng: np.random.Generator) -> FloatArray:
        """Each listener's click factor (mean 1; all 1 without an ``activity`` spread)."""
        if self.activity <= 0:
            return np.ones(listeners)
        sigma = self.activity
        return np.exp(rng.normal(-sigma * sigma / 2, sigma, size=listeners))

    def probabilities(self, liked: Any) -> FloatArray:
        """Click probabilities of lists whose last axis is the position (``liked``: bool)."""
        liked = np.asarray(liked, dtype=bool)
        positions = np.arange(1, liked.shape[-1] + 1)
        examined = 1.0 / np.log2(1.0 + positions)
        return examined * np.where(liked, self.relevant, self.noise)


@dataclass(frozen=True)
class SimulationResult:
    """For each impression count of ``counts``: the share of ``runs`` in which the split test and
    interleaving picked the truly better ranker (significant at 95 % and the right way round),
    and the share that picked the worse one significantly (false decisions); ``needed``: the
    smallest count where each method reached ``target`` (None: not within the grid)."""

    counts: list[int]
    runs: int
    split_correct: list[float]
    split_wrong: list[float]
    interleave_correct: list[float]
    interleave_wrong: list[float]
    expected_ctr: tuple[float, float]
    interleave_preference: float
    target: float

    def needed(self, method: str) -> int | None:
        shares = self.split_correct if method == "split" else self.interleave_correct
        for count, share in zip(self.counts, shares, strict=True):
            if share >= self.target:
                return count
        return None


def _relevance(lists: Sequence[Sequence[int]], liked: Sequence[Any], n: int) -> Any:
    """(listeners, n) bool: whether each listed track is one the listener truly likes (a list
    shorter than ``n`` is padded with tracks nobody likes and nobody clicks)."""
    out = np.zeros((len(lists), n), dtype=bool)
    for u, (items, good) in enumerate(zip(lists, liked, strict=True)):
        row = np.isin(np.asarray(list(items)[:n], dtype=np.int64), np.asarray(good, dtype=np.int64))
        out[u, : len(row)] = row
    return out


def _split_difference(who: Any, arm: Any, clicks: Any, n: int, users: int) -> Interval | None:
    """The split test's click-through difference (arm 0 − arm 1) over the impressions given,
    listeners the unit: each listener's clicks and served tracks summed over their lists."""
    sides = []
    for side in (1, 0):
        mine = arm == side
        served = np.bincount(who[mine], minlength=users) * float(n)
        clicked = np.bincount(who[mine], weights=clicks[mine], minlength=users)
        present = served > 0
        sides.append((clicked[present], served[present]))
    return ratio_difference_delta(sides[0], sides[1])


def simulate_split_and_interleaving(
    better: Sequence[Sequence[int]],
    worse: Sequence[Sequence[int]],
    liked: Sequence[Any],
    *,
    n: int,
    counts: Sequence[int],
    runs: int,
    seed: int = 0,
    clicks: ClickModel = ClickModel(),
    interleavings: int = 16,
    target: float = 0.95,
    on_run: Any = None,
) -> SimulationResult:
    """Simulate both experiment designs on listeners whose true taste is known: ``liked[u]``
    are the tracks listener ``u`` truly likes (their held-out tracks), ``better[u]`` and
    ``worse[u]`` the two rankers' lists for them (the first truly better, e.g. by its offline
    NDCG). An impression is one list served to a listener drawn at random; its clicks follow
    ``clicks``.

    * **Split test** with ``N`` impressions: each listener is in one arm (a coin toss per
      run), each impression is a list served to a listener drawn at random, from their arm's
      ranker (a listener drawn again sees their arm again); the click-through (clicked /
      served) of the two arms is compared with :func:`ratio_difference_delta` over listeners
      (each listener's lists summed: the report's unit) at 95 %.
    * **Interleaving** with ``N`` impressions: each listener drawn sees one team-draft
      interleaving of both lists (one of ``interleavings`` drawn for that listener ahead, each
      with its own coin tosses); :func:`interleaving_credit` credits it; the wins are compared
      with :func:`binomial_two_sided_p` at 95 %.

    Each run draws one stream of impressions and decides at every count of ``counts`` on its
    first ``N`` (a fixed-size test at each count: the shares are per count). ``on_run()`` is
    called after each run (a progress bar)."""
    counts = sorted({int(c) for c in counts if c >= 4})
    if not counts:
        raise ValueError("counts must hold impression counts of at least 4")
    users = len(liked)
    if users < 2 or len(better) != users or len(worse) != users:
        raise ValueError("better, worse and liked need one entry per listener (at least 2)")
    rng = np.random.default_rng(seed)
    relevant = (_relevance(better, liked, n), _relevance(worse, liked, n))
    factor = clicks.activity_factors(users, rng)[:, None]
    probability = (
        np.minimum(1.0, factor * clicks.probabilities(relevant[0])),
        np.minimum(1.0, factor * clicks.probabilities(relevant[1])),
    )
    expected_ctr = (float(probability[0].mean()), float(probability[1].mean()))

    # interleavings drawn ahead: per listener, `interleavings` lists with the team of each item
    # (-1: no item) and the probability that the listener clicks it
    mixed_p = np.zeros((users, interleavings, n))
    mixed_team = np.full((users, interleavings, n), -1, dtype=np.int8)
    for u in range(users):
        good = np.asarray(liked[u], dtype=np.int64)
        for k in range(interleavings):
            mixed = team_draft_interleave(list(better[u])[:n], list(worse[u])[:n], n, rng)
            size = len(mixed.items)
            if size:
                likes = np.isin(np.asarray(mixed.items, dtype=np.int64), good)
                mixed_p[u, k, :size] = clicks.probabilities(np.pad(likes, (0, n - size)))[:size]
                mixed_team[u, k, :size] = mixed.teams
    mixed_p = np.minimum(1.0, mixed_p * factor[:, :, None])

    largest = counts[-1]
    stacked = np.stack(probability)  # (arm, listener, position)
    split_hits = np.zeros((2, len(counts)))
    mixed_hits = np.zeros((2, len(counts)))
    preferences = [0, 0]
    for _ in range(runs):
        # split: every listener is in one arm (a coin toss per run, as hashing would); each
        # impression is a list served to a listener drawn at random, from their arm's ranker
        arm_of = rng.integers(2, size=users)
        who = rng.integers(users, size=largest)
        arm = arm_of[who]
        split_clicks = (rng.random((largest, n)) < stacked[arm, who]).sum(axis=1)
        # interleaving: the same listeners, each list one of their interleavings
        who_mixed = rng.integers(users, size=largest)
        which = rng.integers(interleavings, size=largest)
        clicked = rng.random((largest, n)) < mixed_p[who_mixed, which]
        teams = mixed_team[who_mixed, which]
        won0 = (clicked & (teams == 0)).sum(axis=1)
        won1 = (clicked & (teams == 1)).sum(axis=1)
        wins = np.cumsum(won0 > won1)
        losses = np.cumsum(won1 > won0)
        preferences[0] += int(wins[-1])
        preferences[1] += int(losses[-1])
        for index, count in enumerate(counts):
            verdict = difference_verdict(
                _split_difference(who[:count], arm[:count], split_clicks[:count], n, users),
                enough=True,
            )
            split_hits[0, index] += verdict == BETTER
            split_hits[1, index] += verdict == WORSE
            verdict = preference_verdict(int(wins[count - 1]), int(losses[count - 1]), enough=True)
            mixed_hits[0, index] += verdict == BETTER
            mixed_hits[1, index] += verdict == WORSE
        if on_run is not None:
            on_run()
    total = preferences[0] + preferences[1]
    return SimulationResult(
        counts=counts,
        runs=runs,
        split_correct=(split_hits[0] / runs).tolist(),
        split_wrong=(split_hits[1] / runs).tolist(),
        interleave_correct=(mixed_hits[0] / runs).tolist(),
        interleave_wrong=(mixed_hits[1] / runs).tolist(),
        expected_ctr=expected_ctr,
        interleave_preference=preferences[0] / total if total else 0.5,
        target=target,
    )


# --- the simulation's listeners and rankers, from listening data -------------------------------

#: Rankers the simulation can pit against each other, by name (fresh, unfitted models of
#: :mod:`.models`; ItemKNN's 100 neighbours is issue #11's seed, 10 a deliberately weaker one).
SIMULATION_RANKERS = ("itemknn", "itemknn-10", "popularity")


def simulation_ranker(name: str) -> Any:
    """A fresh model of ``name`` (one of :data:`SIMULATION_RANKERS`)."""
    from .models import ItemKnnModel, PopularityModel

    if name == "itemknn":
        return ItemKnnModel(neighbours=100)
    if name == "itemknn-10":
        return ItemKnnModel(neighbours=10)
    if name == "popularity":
        return PopularityModel()
    raise ValueError(f"unknown ranker {name!r} (known: {', '.join(SIMULATION_RANKERS)})")


@dataclass(frozen=True)
class SimulationListeners:
    """Simulated listeners: ``liked[u]`` what listener ``u`` truly likes (their held-out
    tracks), ``lists[name][u]`` each ranker's top ``n`` for them (fitted on the rest), and
    each ranker's offline ``ndcg`` at ``n`` on those held-out tracks."""

    liked: list[Any]
    lists: dict[str, list[Any]]
    ndcg: dict[str, float]
    n: int


def simulation_listeners(
    matrix: Any, rankers: Sequence[str], *, n: int = 10, share: float = 0.2, seed: int = 0
) -> SimulationListeners:
    """Hold out ``share`` of each listener's tracks of ``matrix`` (listeners × tracks, the
    offline evaluation's :func:`.evaluation.split_per_listener`), fit each ranker on the rest,
    and list its top ``n`` for every listener with something held out (their training tracks
    left out)."""
    from .evaluation import model_lists, split_per_listener
    from .metrics import ndcg_at_k

    split = split_per_listener(matrix, share, seed)
    evaluated = split.evaluated
    rows = split.train[evaluated]
    liked = [split.held_out[u] for u in evaluated]
    lists: dict[str, list[Any]] = {}
    ndcg: dict[str, float] = {}
    for name in rankers:
        model = simulation_ranker(name).fit(split.train)
        lists[name] = model_lists(model, rows, n, batch=256)
        ndcg[name] = float(
            np.mean([ndcg_at_k(r, h, n) for r, h in zip(lists[name], liked, strict=True)])
        )
    return SimulationListeners(liked=liked, lists=lists, ndcg=ndcg, n=n)
