"""The outcome report of a ranking experiment (issue #14): per variant, what became of the lists it
served, each rate with its 95 % interval, and what the comparison with the control (the first
variant) shows; for an interleaving experiment, which variant the listeners' clicks preferred.

Everything comes from :mod:`recommendations.selectors.outcomes` (the one attribution rule):

- **click-through**: the share of served tracks played or liked within the attribution window
  (an interaction naming the list, or naming none and within
  ``RECOMMENDER["impressions"]["attribution_minutes"]`` after it was served); **like**, **skip**,
  **dislike rate** the same with that kind; Wilson score intervals over served tracks;
- **listened share**: the mean, over attributed plays of known length, of the share of the track
  heard; a normal interval;
- **the difference** of a variant's click-through against the control's, with a percentile
  bootstrap over **listeners** (``engine.experiments.ratio_difference_bootstrap``): one
  listener's served tracks are correlated, so tracks are not independent units and a
  two-proportion interval over tracks would be too narrow. The verdict reads the interval:
  wholly above 0 "better", below "worse", else "no difference shown yet";
- **interleaving**: each interleaved list credits the variant whose tracks got more clicks
  (``engine.experiments.interleaving_credit``; a tie or no click credits nobody); the credited
  lists are compared with an exact two-sided binomial (sign) test, and the preference share
  has a Wilson interval.

Below ``RECOMMENDER["experiments"]["min_lists"]`` served lists or ``["min_listeners"]``
listeners per variant (interleaving: in the experiment) the verdict is "not enough data yet",
with how many more lists are needed. Aggregates are computed in PostgreSQL (one row per
listener reaches Python at most); a report is cached for ``["report_cache_seconds"]``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from recommendations.engine.experiments import (
    NOT_ENOUGH,
    Interval,
    binomial_two_sided_p,
    difference_verdict,
    mean_interval,
    preference_verdict,
    ratio_difference_bootstrap,
    wilson_interval,
)
from recommendations.models import Experiment, ExperimentMode
from recommendations.selectors.outcomes import (
    ImpressionFilter,
    ListenerTotals,
    attribution_window,
    interleaving_totals,
    listener_totals,
)

CACHE_KEY = "recommendations:experiments:report:{id}"

#: What each rate means, written on the page and in the API's schema.
DEFINITIONS = {
    "click_through": "share of served tracks played or liked within the attribution window",
    "like_rate": "share of served tracks liked within the attribution window",
    "skip_rate": "share of served tracks skipped within the attribution window",
    "dislike_rate": "share of served tracks disliked within the attribution window",
    "listened_share": "mean share of a track heard, over attributed plays of known length",
}


def _options() -> dict[str, Any]:
    options = dict(settings.RECOMMENDER.get("experiments", {}))
    return {
        "min_lists": int(options.get("min_lists", 100)),
        "min_listeners": int(options.get("min_listeners", 20)),
        "bootstrap_resamples": int(options.get("bootstrap_resamples", 1000)),
        "report_cache_seconds": int(options.get("report_cache_seconds", 60)),
    }


@dataclass(frozen=True)
class Comparison:
    """A variant's click-through against the control's: the ``difference`` (variant − control)
    with its interval, and the ``verdict`` in words (``better``, ``worse``, ``no difference
    shown yet``, ``not enough data yet``)."""

    difference: Interval | None
    verdict: str
    sentence: str


@dataclass(frozen=True)
class VariantOutcome:
    """One variant's figures (in an interleaving experiment: the tracks its team contributed)."""

    key: str
    name: str
    parameters: dict[str, Any]
    control: bool
    listeners: int
    impressions: int
    served: int
    click_through: Interval | None
    like_rate: Interval | None
    skip_rate: Interval | None
    dislike_rate: Interval | None
    listened_share: Interval | None
    listened_plays: int
    enough: bool
    lists_needed: int
    listeners_needed: int
    comparison: Comparison | None = None


@dataclass(frozen=True)
class InterleavingOutcome:
    """An interleaving experiment's preference: lists ``with_preference`` (credited), ``wins``
    of each variant (in variant order), ``ties``, lists ``without_click``; the ``preference``
    share of the challenger (the second variant) among credited lists with its Wilson interval,
    the binomial test's ``p_value``, the ``verdict`` about the challenger."""

    impressions: int
    listeners: int
    with_preference: int
    ties: int
    without_click: int
    wins: list[tuple[str, int]]
    preference: Interval | None
    p_value: float
    enough: bool
    lists_needed: int
    listeners_needed: int
    verdict: str
    sentence: str


@dataclass(frozen=True)
class ExperimentReport:
    experiment_id: int
    name: str
    description: str
    mode: str
    mode_label: str
    status: str
    share: float
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    stopped_at: dt.datetime | None
    attribution_minutes: float
    min_lists: int
    min_listeners: int
    variants: list[VariantOutcome]
    interleaving: InterleavingOutcome | None
    computed_at: dt.datetime
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the API (intervals as ``{value, low, high}``; wins as a list)."""
        data = asdict(self)
        if self.interleaving is not None:
            data["interleaving"]["wins"] = [
                {"variant": key, "wins": wins} for key, wins in self.interleaving.wins
            ]
        return data


def experiment_status(*, experiment: Experiment, now: dt.datetime | None = None) -> str:
    """``running``, ``scheduled`` (not started), ``ended`` (its end passed) or ``stopped``."""
    now = now or timezone.now()
    if experiment.stopped_at is not None:
        return "stopped"
    if experiment.starts_at > now:
        return "scheduled"
    if experiment.ends_at is not None and experiment.ends_at <= now:
        return "ended"
    return "running"


def _variant_outcome(
    *,
    key: str,
    name: str,
    parameters: dict[str, Any],
    control: bool,
    rows: list[ListenerTotals],
    options: dict[str, Any],
) -> VariantOutcome:
    served = sum(row.served for row in rows)
    impressions = sum(row.impressions for row in rows)
    listeners = len({row.user_id for row in rows})
    listened_count = sum(row.listened_count for row in rows)
    lists_needed = max(0, options["min_lists"] - impressions)
    listeners_needed = max(0, options["min_listeners"] - listeners)
    return VariantOutcome(
        key=key,
        name=name or key,
        parameters=parameters,
        control=control,
        listeners=listeners,
        impressions=impressions,
        served=served,
        click_through=wilson_interval(sum(row.clicked for row in rows), served),
        like_rate=wilson_interval(sum(row.liked for row in rows), served),
        skip_rate=wilson_interval(sum(row.skipped for row in rows), served),
        dislike_rate=wilson_interval(sum(row.disliked for row in rows), served),
        listened_share=mean_interval(
            sum(row.listened_sum for row in rows),
            sum(row.listened_squares for row in rows),
            listened_count,
        ),
        listened_plays=listened_count,
        enough=lists_needed == 0 and listeners_needed == 0,
        lists_needed=lists_needed,
        listeners_needed=listeners_needed,
    )


def _sentence(verdict: str, challenger: str, control: str, outcome: VariantOutcome) -> str:
    if verdict == NOT_ENOUGH:
        return f"Not enough data yet: {_needed(outcome.lists_needed, outcome.listeners_needed)}."
    if verdict in ("better", "worse"):
        return f"{challenger} is {verdict} than {control} (click-through, 95 % interval)."
    return f"No difference shown yet between {challenger} and {control}."


def _needed(lists: int, listeners: int) -> str:
    parts = []
    if lists:
        parts.append(f"{lists} more list{'s' if lists != 1 else ''} needed")
    if listeners:
        parts.append(f"{listeners} more listener{'s' if listeners != 1 else ''} needed")
    return ", ".join(parts) or "below the minimum"


def _compare(
    *,
    control: VariantOutcome,
    control_rows: list[ListenerTotals],
    outcome: VariantOutcome,
    rows: list[ListenerTotals],
    options: dict[str, Any],
) -> Comparison:
    def arm(listeners: list[ListenerTotals]) -> tuple[Any, Any]:
        return (
            np.array([row.clicked for row in listeners], dtype=np.float64),
            np.array([row.served for row in listeners], dtype=np.float64),
        )

    difference = ratio_difference_bootstrap(
        arm(control_rows), arm(rows), resamples=options["bootstrap_resamples"], seed=0
    )
    enough = control.enough and outcome.enough
    verdict = difference_verdict(difference, enough=enough)
    if verdict == NOT_ENOUGH:
        lists = max(control.lists_needed, outcome.lists_needed)
        listeners = max(control.listeners_needed, outcome.listeners_needed)
        sentence = f"Not enough data yet: {_needed(lists, listeners)} (per variant)."
    else:
        sentence = _sentence(verdict, outcome.name, control.name, outcome)
    return Comparison(difference=difference, verdict=verdict, sentence=sentence)


def _by_user(rows: list[ListenerTotals]) -> list[ListenerTotals]:
    """Totals of each listener across the groups of ``rows`` (one per listener)."""
    merged: dict[int, ListenerTotals] = {}
    for row in rows:
        seen = merged.get(row.user_id)
        if seen is None:
            merged[row.user_id] = row
            continue
        merged[row.user_id] = ListenerTotals(
            variant=seen.variant,
            user_id=row.user_id,
            impressions=seen.impressions + row.impressions,
            served=seen.served + row.served,
            clicked=seen.clicked + row.clicked,
            liked=seen.liked + row.liked,
            skipped=seen.skipped + row.skipped,
            disliked=seen.disliked + row.disliked,
            listened_sum=seen.listened_sum + row.listened_sum,
            listened_squares=seen.listened_squares + row.listened_squares,
            listened_count=seen.listened_count + row.listened_count,
        )
    return list(merged.values())


def experiment_report_compute(*, experiment: Experiment) -> ExperimentReport:
    """The report of ``experiment``, computed now (see the module docstring; use
    :func:`experiment_report` for the cached one)."""
    options = _options()
    variants = list(experiment.variants.order_by("id"))
    where = ImpressionFilter(experiment_id=experiment.pk)
    outcomes: list[VariantOutcome] = []
    interleaving: InterleavingOutcome | None = None
    if experiment.mode == ExperimentMode.INTERLEAVE:
        interleaving, outcomes = _interleaving(experiment, variants, where, options)
    else:
        rows = listener_totals(where)
        by_variant: dict[str, list[ListenerTotals]] = {v.key: [] for v in variants}
        for row in rows:
            by_variant.setdefault(row.variant, []).append(row)
        for index, variant in enumerate(variants):
            outcomes.append(
                _variant_outcome(
                    key=variant.key,
                    name=variant.name,
                    parameters=variant.parameters,
                    control=index == 0,
                    rows=by_variant[variant.key],
                    options=options,
                )
            )
        if outcomes:
            control = outcomes[0]
            outcomes = [control] + [
                replace(
                    outcome,
                    comparison=_compare(
                        control=control,
                        control_rows=by_variant[control.key],
                        outcome=outcome,
                        rows=by_variant[outcome.key],
                        options=options,
                    ),
                )
                for outcome in outcomes[1:]
            ]
    return ExperimentReport(
        experiment_id=experiment.pk,
        name=experiment.name,
        description=experiment.description,
        mode=experiment.mode,
        mode_label=ExperimentMode(experiment.mode).label,
        status=experiment_status(experiment=experiment),
        share=experiment.share,
        starts_at=experiment.starts_at,
        ends_at=experiment.ends_at,
        stopped_at=experiment.stopped_at,
        attribution_minutes=attribution_window().total_seconds() / 60,
        min_lists=options["min_lists"],
        min_listeners=options["min_listeners"],
        variants=outcomes,
        interleaving=interleaving,
        computed_at=timezone.now(),
    )


def _interleaving(
    experiment: Experiment, variants: list[Any], where: ImpressionFilter, options: dict[str, Any]
) -> tuple[InterleavingOutcome, list[VariantOutcome]]:
    """The preference of an interleaving experiment (its first two variants: control and
    challenger) and each team's rates (tracks a variant contributed to the interleaved lists)."""
    rows = listener_totals(where, by="team")
    by_team: dict[str, list[ListenerTotals]] = {v.key: [] for v in variants}
    for row in rows:
        by_team.setdefault(row.variant, []).append(row)
    outcomes = [
        _variant_outcome(
            key=variant.key,
            name=variant.name,
            parameters=variant.parameters,
            control=index == 0,
            rows=by_team[variant.key],
            options=options,
        )
        for index, variant in enumerate(variants)
    ]
    totals = interleaving_totals(where)
    keys = [v.key for v in variants[:2]]
    wins = [(key, totals.wins.get(key, 0)) for key in keys]
    control_wins = wins[0][1] if wins else 0
    challenger_wins = wins[1][1] if len(wins) > 1 else 0
    credited = control_wins + challenger_wins
    lists_needed = max(0, options["min_lists"] - totals.impressions)
    listeners_needed = max(0, options["min_listeners"] - totals.listeners)
    enough = lists_needed == 0 and listeners_needed == 0 and len(keys) == 2
    verdict = preference_verdict(challenger_wins, control_wins, enough=enough)
    names = {v.key: (v.name or v.key) for v in variants}
    if len(keys) < 2:
        sentence = "An interleaving experiment needs two variants."
    elif verdict == NOT_ENOUGH:
        sentence = f"Not enough data yet: {_needed(lists_needed, listeners_needed)}."
    elif verdict in ("better", "worse"):
        sentence = (
            f"{names[keys[1]]} is {verdict} than {names[keys[0]]} "
            "(listeners' clicks preferred it in interleaved lists, 95 %)."
        )
    else:
        sentence = f"No difference shown yet between {names[keys[1]]} and {names[keys[0]]}."
    interleaving = InterleavingOutcome(
        impressions=totals.impressions,
        listeners=totals.listeners,
        with_preference=credited,
        ties=totals.ties,
        without_click=totals.without_click,
        wins=wins,
        preference=wilson_interval(challenger_wins, credited),
        p_value=binomial_two_sided_p(challenger_wins, credited),
        enough=enough,
        lists_needed=lists_needed,
        listeners_needed=listeners_needed,
        verdict=verdict,
        sentence=sentence,
    )
    return interleaving, outcomes


def experiment_report(*, experiment: Experiment) -> ExperimentReport:
    """:func:`experiment_report_compute`, kept in the cache for
    ``RECOMMENDER["experiments"]["report_cache_seconds"]`` (with the cache down: computed on
    each call). Only the figures are kept: the experiment's definition (name, status, stop
    and end) is that of ``experiment`` as given, so a stop shows at once."""
    key = CACHE_KEY.format(id=experiment.pk)
    found = cache.get(key)
    if isinstance(found, ExperimentReport):
        return replace(
            found,
            name=experiment.name,
            description=experiment.description,
            status=experiment_status(experiment=experiment),
            share=experiment.share,
            starts_at=experiment.starts_at,
            ends_at=experiment.ends_at,
            stopped_at=experiment.stopped_at,
        )
    report = experiment_report_compute(experiment=experiment)
    cache.set(key, report, _options()["report_cache_seconds"])
    return report


def experiment_list() -> list[tuple[Experiment, str]]:
    """Every experiment, newest first, with its status (the staff list page)."""
    now = timezone.now()
    return [
        (experiment, experiment_status(experiment=experiment, now=now))
        for experiment in Experiment.objects.prefetch_related("variants")
    ]
