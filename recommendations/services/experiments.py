"""Ranking experiments, write side: saving one (the admin's form goes through here), stopping
one, deleting one. Every change makes the next :func:`~recommendations.selectors.experiments.
running_experiments` read the database, on commit (a reader between the change and its commit
would otherwise cache the old rows again). docs/experiments.md "Defining an experiment".

Once an experiment has started, its mode and its variants' keys and parameters are fixed: a
change would mix two experiments under one name in one report. Its name, description, share
and end may still change (a share raised mid-way is the curator's call: the report then counts
the listeners who joined later from their first list on).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from musicrec.errors import ApplicationError
from recommendations.engine.experiments import VariantParametersError, variant_parameters_clean
from recommendations.models import Experiment, ExperimentMode, ExperimentVariant, Impression
from recommendations.selectors.experiments import running_experiments_forget

logger = logging.getLogger(__name__)


def _forget_on_commit() -> None:
    transaction.on_commit(running_experiments_forget)


def experiment_has_started(*, experiment: Experiment) -> bool:
    """Whether ``experiment`` (as stored) has started: its definition is then fixed."""
    if experiment.pk is None:
        return False
    stored = Experiment.objects.filter(pk=experiment.pk).values_list("starts_at", flat=True).first()
    return stored is not None and stored <= timezone.now()


@dataclass(frozen=True)
class VariantSpec:
    key: str
    name: str = ""
    weight: int = 1
    parameters: Mapping[str, Any] = field(default_factory=dict)


def experiment_variants_check(
    *, mode: str, variants: Sequence[VariantSpec]
) -> dict[int, list[str]]:
    """The problems of a set of variants, by position (``-1``: the set as a whole): each one's
    parameters (``variant_parameters_clean``), unique keys, at least two, exactly two for
    interleaving."""
    problems: dict[int, list[str]] = {}
    seen: set[str] = set()
    for at, variant in enumerate(variants):
        try:
            variant_parameters_clean(variant.parameters)
        except VariantParametersError as error:
            problems.setdefault(at, []).extend(error.problems)
        if variant.key in seen:
            problems.setdefault(at, []).append(f"the key {variant.key!r} is used twice")
        seen.add(variant.key)
        if variant.weight < 1:
            problems.setdefault(at, []).append("weight must be 1 or more")
    if len(variants) < 2:
        problems.setdefault(-1, []).append("An experiment needs at least two variants.")
    if mode == ExperimentMode.INTERLEAVE and len(variants) != 2:
        problems.setdefault(-1, []).append(
            "Interleaving compares exactly two variants (one list drawn from both)."
        )
    return problems


@transaction.atomic
def experiment_create(
    *,
    name: str,
    variants: Sequence[VariantSpec],
    by: User | None,
    mode: str = ExperimentMode.SPLIT,
    share: float = 1.0,
    description: str = "",
    starts_at: Any = None,
    ends_at: Any = None,
) -> Experiment:
    """A new experiment with its variants (checked as the admin checks them; a problem is an
    :class:`ApplicationError` naming it)."""
    problems = experiment_variants_check(mode=mode, variants=variants)
    if problems:
        raise ApplicationError(
            "; ".join(problem for found in problems.values() for problem in found),
            code="experiment_invalid",
        )
    if not 0.0 < share <= 1.0:
        raise ApplicationError("share must be above 0 and at most 1", code="experiment_invalid")
    experiment = Experiment(
        name=name,
        description=description,
        mode=mode,
        share=share,
        starts_at=starts_at or timezone.now(),
        ends_at=ends_at,
        created_by=by,
    )
    if experiment.ends_at is not None and experiment.ends_at <= experiment.starts_at:
        raise ApplicationError("an experiment must end after it starts", code="experiment_invalid")
    experiment.save()
    ExperimentVariant.objects.bulk_create(
        ExperimentVariant(
            experiment=experiment,
            key=variant.key,
            name=variant.name,
            weight=variant.weight,
            parameters=variant_parameters_clean(variant.parameters),
        )
        for variant in variants
    )
    _forget_on_commit()
    return experiment


@transaction.atomic
def experiment_save(*, experiment: Experiment, by: User | None) -> Experiment:
    """Save ``experiment`` as edited in the admin (its variants are saved by
    :func:`experiment_variants_saved` right after, in the same transaction). A new one records
    who created it; a started one may not change its mode (the admin shows it read-only)."""
    if experiment.pk is None:
        experiment.created_by = by
    elif experiment_has_started(experiment=experiment):
        stored_mode = Experiment.objects.values_list("mode", flat=True).get(pk=experiment.pk)
        if stored_mode != experiment.mode:
            raise ApplicationError(
                "A started experiment's mode cannot change.", code="experiment_started"
            )
    experiment.save()
    _forget_on_commit()
    return experiment


def experiment_variants_saved(*, experiment: Experiment) -> None:
    """After the admin saved an experiment's variants: the running experiments are read anew
    (on commit)."""
    _forget_on_commit()


@transaction.atomic
def experiment_stop(*, experiment: Experiment, by: User | None) -> bool:
    """Stop ``experiment`` now (it assigns nobody from the next request on; its impressions
    and report stay). Whether it was stopped: one already stopped or ended is left alone.
    Takes the row's lock, so two curators stopping it at once record one stop."""
    locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
    now = timezone.now()
    if locked.stopped_at is not None or (locked.ends_at is not None and locked.ends_at <= now):
        return False
    locked.stopped_at = now
    locked.save(update_fields=["stopped_at"])
    experiment.stopped_at = now
    logger.info(
        "experiment %s (%s) stopped by %s", locked.pk, locked.name, by.username if by else "—"
    )
    _forget_on_commit()
    return True


def experiments_stop(*, experiments: Iterable[Experiment], by: User | None) -> int:
    """:func:`experiment_stop` of each; how many were stopped."""
    return sum(experiment_stop(experiment=experiment, by=by) for experiment in experiments)


def experiment_delete_refusal(*, experiment: Experiment) -> str | None:
    """Why ``experiment`` may not be deleted, or None. One with served lists is kept: deleting
    it would leave those impressions without their experiment and its report gone (stop it
    instead; its impressions go with the retention, then it may be deleted)."""
    if Impression.objects.filter(experiment_id=experiment.pk).exists():
        return (
            f"“{experiment.name}” has served lists (impressions): its report would be lost. "
            "Stop it instead; it can be deleted once its impressions are pruned."
        )
    return None


@transaction.atomic
def experiment_delete(*, experiment: Experiment) -> None:
    """Delete an experiment that served no list (see :func:`experiment_delete_refusal`)."""
    refusal = experiment_delete_refusal(experiment=experiment)
    if refusal:
        raise ApplicationError(refusal, code="experiment_has_impressions", status=409)
    experiment.delete()
    _forget_on_commit()
