"""Ranking experiments, read side: which experiments run, and which one (and which variant) a
listener is in. docs/experiments.md "Assignment".

:func:`running_experiments` answers from ONE cache read (``RUNNING_KEY``, an empty tuple cached
too): the experiments not stopped and not yet ended, with their variants, as small frozen
dataclasses. The experiment services (``services.experiments``) store the rows anew on commit
of every change; a reader stores what it read only where the key is empty (``cache.add``), so a
reader that queried just before a change committed cannot put the old rows back over the new
ones. The key's timeout (``RECOMMENDER["experiments"]["lookup_timeout_seconds"]``) bounds a
change made some other way, and the race left: two changes committed at once whose refreshes
store in the reverse order. Start and end times are
compared with the clock on every read, so a scheduled experiment starts, and one ends, on time.
With Redis down the read answers nothing and the database is asked instead (one query with its
variants), never an error.

:func:`experiment_assignment` is pure arithmetic over that tuple: a listener's place in
``[0, 1)`` is the first 8 bytes of ``sha256(f"{salt}:{user_id}")`` over 2^64, enrolled when it is
below the share; the variant by a second, independent hash (``f"{salt}:variant:{user_id}"``)
over the variants' weights. Same answer in every request and process (no Python ``hash()``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Prefetch, Q
from django.utils import timezone

from recommendations.engine.experiments import (
    VariantParametersError,
    parameters_touched,
    variant_parameters_clean,
)
from recommendations.models import Experiment, ExperimentMode, ExperimentVariant

logger = logging.getLogger(__name__)

#: Django cache key of the running (and scheduled) experiments; deleted by the services.
RUNNING_KEY = "recommendations:experiments:running"

#: ``Impression.variant`` of an interleaved list (each item then names its ``team``).
INTERLEAVED = "interleaved"

_SCALE = float(2**64)


def lookup_timeout() -> int:
    """``RECOMMENDER["experiments"]["lookup_timeout_seconds"]`` (musicrec/settings.py)."""
    return int(settings.RECOMMENDER.get("experiments", {}).get("lookup_timeout_seconds", 60))


@dataclass(frozen=True)
class RunningVariant:
    key: str
    weight: int
    #: clean parameters (``engine.experiments.variant_parameters_clean``)
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class RunningExperiment:
    id: int
    name: str
    mode: str
    share: float
    salt: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    variants: tuple[RunningVariant, ...]
    #: the parameters any of its variants changes (a listener: one experiment per parameter)
    touched: frozenset[str]

    def is_running(self, now: dt.datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


@dataclass(frozen=True)
class Assignment:
    """A listener's place in a running experiment: the ``variant`` key they see (``"interleaved"``
    for an interleaving experiment) and its clean ``parameters`` (a split test); for
    interleaving the two ``teams`` whose lists are interleaved (team 0 and 1)."""

    experiment: RunningExperiment
    variant: str
    parameters: Mapping[str, Any]
    teams: tuple[RunningVariant, RunningVariant] | None = None

    @property
    def cache_part(self) -> str:
        """What a cached list's key says of it: a new enrolment is a new key."""
        return f"x{self.experiment.id}.{self.variant}"


def _experiment_row(experiment: Experiment) -> RunningExperiment | None:
    variants: list[RunningVariant] = []
    for variant in experiment.variants.all():
        try:
            clean = variant_parameters_clean(variant.parameters)
        except VariantParametersError as error:
            # the admin validates them; a row written around it must not break serving
            logger.error(
                "experiment %s variant %r has invalid parameters (%s): experiment skipped",
                experiment.pk,
                variant.key,
                error,
            )
            return None
        variants.append(RunningVariant(key=variant.key, weight=variant.weight, parameters=clean))
    if len(variants) < 2:  # the admin asks for two or more; one is no experiment
        return None
    touched: frozenset[str] = frozenset().union(
        *(parameters_touched(variant.parameters) for variant in variants)
    )
    return RunningExperiment(
        id=experiment.pk,
        name=experiment.name,
        mode=experiment.mode,
        share=float(experiment.share),
        salt=experiment.salt,
        starts_at=experiment.starts_at,
        ends_at=experiment.ends_at,
        variants=tuple(variants),
        touched=touched,
    )


def experiments_current_from_db(*, now: dt.datetime | None = None) -> tuple[RunningExperiment, ...]:
    """The experiments neither stopped nor ended at ``now`` (running or scheduled), in
    (starts_at, id) order, with their variants: one query and one for the variants."""
    now = now or timezone.now()
    rows = (
        Experiment.objects.filter(stopped_at__isnull=True)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("starts_at", "id")
        .prefetch_related(Prefetch("variants", queryset=ExperimentVariant.objects.order_by("id")))
    )
    return tuple(row for row in (_experiment_row(experiment) for experiment in rows) if row)


def running_experiments(*, now: dt.datetime | None = None) -> tuple[RunningExperiment, ...]:
    """The experiments running at ``now``, in (starts_at, id) order: one cache read (see the
    module docstring); the database when the cache has nothing (stored for the next reader)."""
    now = now or timezone.now()
    unreadable = False
    try:
        current = cache.get(RUNNING_KEY)
    except (AttributeError, ImportError, TypeError, ValueError, pickle.UnpicklingError):
        # an entry pickled by another release of these dataclasses (during a deploy): read anew
        logger.warning("cached running experiments unreadable: read from the database")
        current, unreadable = None, True
    if current is None:
        current = experiments_current_from_db(now=now)
        # a scheduled experiment is kept too: it starts by the clock, not by a new lookup.
        # Stored only where nothing is (an unreadable entry is replaced): a change that
        # committed since this read has stored its own rows, newer than these
        store = cache.set if unreadable else cache.add
        store(RUNNING_KEY, current, timeout=lookup_timeout())
    return tuple(experiment for experiment in current if experiment.is_running(now))


def running_experiments_forget() -> None:
    """Store the experiments as the database holds them now, for the next
    :func:`running_experiments` (the services call it on commit of every change to an
    experiment or a variant; with the cache down, nothing is stored and nothing fails)."""
    cache.set(RUNNING_KEY, experiments_current_from_db(), timeout=lookup_timeout())


def _unit(text: str) -> float:
    """``text``'s hash as a number in [0, 1): its SHA-256's first 8 bytes over 2^64."""
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def listener_place(*, salt: str, user_id: int) -> float:
    """Where a listener falls in an experiment, in [0, 1): enrolled below its share."""
    return _unit(f"{salt}:{user_id}")


def variant_pick(*, experiment: RunningExperiment, user_id: int) -> RunningVariant:
    """The variant of a split test a listener sees: a second hash, independent of the place,
    over the variants' weights (in their id order)."""
    point = _unit(f"{experiment.salt}:variant:{user_id}") * sum(
        variant.weight for variant in experiment.variants
    )
    for variant in experiment.variants:
        point -= variant.weight
        if point < 0:
            return variant
    return experiment.variants[-1]


def experiment_assignment(
    *,
    user_id: int,
    experiments: Sequence[RunningExperiment] | None = None,
    now: dt.datetime | None = None,
) -> Assignment | None:
    """The experiment and variant of this listener's lists, or None (the site's own).

    ``experiments`` (default :func:`running_experiments`) are taken in (starts_at, id) order.
    A served list records one experiment (``Impression.experiment``), so the first one that
    enrols the listener is theirs and the later ones are skipped: a listener is in at most one
    experiment at a time, hence never in two that change the same parameter; a later experiment
    draws (by its own, independent hash) from the listeners the earlier ones did not take
    (docs/experiments.md "Assignment")."""
    if experiments is None:
        experiments = running_experiments(now=now)
    for experiment in experiments:
        if listener_place(salt=experiment.salt, user_id=user_id) >= experiment.share:
            continue
        if experiment.mode == ExperimentMode.INTERLEAVE:
            first, second = experiment.variants[0], experiment.variants[1]
            return Assignment(
                experiment=experiment, variant=INTERLEAVED, parameters={}, teams=(first, second)
            )
        variant = variant_pick(experiment=experiment, user_id=user_id)
        return Assignment(experiment=experiment, variant=variant.key, parameters=variant.parameters)
    return None


def interleave_seed(*, salt: str, user_id: int, generation: Any) -> int:
    """The seed of a listener's team draft: the same list for the same serving state (a cached
    list and a recomputed one agree), another after a training."""
    digest = hashlib.sha256(f"{salt}:{user_id}:{generation!r}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True)
class Reach:
    """Who an experiment can actually enrol: ``share`` as set, ``reach`` once the experiments
    that come before it in the assignment order (started earlier, or as early with a lower id)
    and run at the same time have taken their listeners (a listener is in one experiment at a
    time), and those ``ahead`` by name."""

    share: float
    reach: float
    ahead: tuple[str, ...]


def experiment_reach(*, experiment: Experiment) -> Reach:
    """:class:`Reach` of ``experiment`` against the experiments neither stopped nor ended whose
    time overlaps its own (one query). Hashes are independent, so each one ahead keeps a
    ``1 - share`` part of the listeners it does not take: reach = share × Π (1 - share)."""
    overlapping = Experiment.objects.filter(stopped_at__isnull=True).exclude(pk=experiment.pk)
    overlapping = overlapping.filter(
        Q(starts_at__lt=experiment.starts_at)
        | Q(starts_at=experiment.starts_at, pk__lt=experiment.pk or 0)
    ).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=max(experiment.starts_at, timezone.now())))
    if experiment.ends_at is not None:
        overlapping = overlapping.filter(starts_at__lt=experiment.ends_at)
    reach = float(experiment.share)
    ahead: list[str] = []
    for name, share in overlapping.order_by("starts_at", "id").values_list("name", "share"):
        reach *= 1.0 - float(share)
        ahead.append(name)
    return Reach(share=float(experiment.share), reach=reach, ahead=tuple(ahead))
