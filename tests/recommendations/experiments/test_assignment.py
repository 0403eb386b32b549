"""Assignment of listeners to running experiments (recommendations.selectors.experiments):
deterministic by listener and experiment, in proportion, only while running, one experiment per
listener (hence per parameter), from one cached lookup."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
import sys
from collections import Counter

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from musicrec import embedded
from recommendations.models import Experiment, ExperimentMode
from recommendations.selectors.experiments import (
    INTERLEAVED,
    RUNNING_KEY,
    RunningExperiment,
    RunningVariant,
    experiment_assignment,
    listener_place,
    running_experiments,
)
from recommendations.services.experiments import VariantSpec, experiment_create, experiment_stop
from tests.services import helper_instance

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _running(
    *,
    id: int = 1,
    salt: str = "5eed",
    share: float = 1.0,
    weights: tuple[int, ...] = (1, 1),
    touched: frozenset[str] = frozenset({"weights.content"}),
    mode: str = ExperimentMode.SPLIT,
    starts_at: dt.datetime | None = None,
) -> RunningExperiment:
    return RunningExperiment(
        id=id,
        name=f"e{id}",
        mode=mode,
        share=share,
        salt=salt,
        starts_at=starts_at or NOW - dt.timedelta(days=1),
        ends_at=None,
        variants=tuple(
            RunningVariant(key=f"v{at}", weight=weight, parameters={"relevance": at / 10})
            for at, weight in enumerate(weights)
        ),
        touched=touched,
    )


def _variant_of(experiment: RunningExperiment, user_id: int) -> str | None:
    assignment = experiment_assignment(user_id=user_id, experiments=[experiment])
    return None if assignment is None else assignment.variant


# --- deterministic ---------------------------------------------------------------------------


def test_the_same_listener_gets_the_same_variant_in_every_request():
    experiment = _running(share=0.5)

    first = [_variant_of(experiment, user_id) for user_id in range(1, 301)]
    again = [_variant_of(experiment, user_id) for user_id in range(1, 301)]

    assert first == again
    assert {None, "v0", "v1"} == set(first)


_IN_ANOTHER_PROCESS = """
import json, sys
import django
django.setup()
from recommendations.selectors.experiments import (
    RunningExperiment, RunningVariant, experiment_assignment,
)
import datetime as dt
spec = json.loads(sys.argv[1])
experiment = RunningExperiment(
    id=1, name="e", mode="split", share=spec["share"], salt=spec["salt"],
    starts_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), ends_at=None,
    variants=tuple(RunningVariant(key=k, weight=w, parameters={}) for k, w in spec["variants"]),
    touched=frozenset(),
)
out = []
for user_id in spec["users"]:
    a = experiment_assignment(user_id=user_id, experiments=[experiment])
    out.append(None if a is None else a.variant)
print(json.dumps(out))
"""


def test_another_process_assigns_every_listener_alike():
    # given an experiment and 500 listeners assigned here
    experiment = _running(share=0.4, weights=(2, 1), salt="a1b2c3d4e5f60718")
    users = list(range(1000, 1500))
    here = [_variant_of(experiment, user_id) for user_id in users]

    # when a fresh interpreter (another hash seed) assigns them
    spec = {
        "share": 0.4,
        "salt": "a1b2c3d4e5f60718",
        "variants": [["v0", 2], ["v1", 1]],
        "users": users,
    }
    env = {**os.environ, "PYTHONHASHSEED": "12345", "DJANGO_SETTINGS_MODULE": "musicrec.settings"}
    done = subprocess.run(
        [sys.executable, "-c", _IN_ANOTHER_PROCESS, json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        cwd=settings.BASE_DIR,
        timeout=120,
        check=False,
    )

    # then it answers the same for each one
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == here


# --- proportions -----------------------------------------------------------------------------

LISTENERS = 10_000


def _within(count: int, total: int, p: float, sigmas: float = 4.0) -> bool:
    """``count`` of ``total`` draws is within ``sigmas`` binomial standard deviations of
    ``p`` (4 σ: a correct assignment fails this about once in 16,000 runs)."""
    return abs(count - total * p) <= sigmas * math.sqrt(total * p * (1 - p))


@pytest.mark.parametrize(("weights", "first_share"), [((1, 1), 1 / 2), ((2, 1), 2 / 3)])
def test_enrolment_and_variants_follow_the_share_and_the_weights(weights, first_share):
    # given an experiment enrolling 30 % of listeners, its variants weighted as given
    experiment = _running(share=0.3, weights=weights, salt=f"share-{weights}")

    # when 10,000 listener ids are assigned
    variants = Counter(_variant_of(experiment, user_id) for user_id in range(1, LISTENERS + 1))

    # then 30 % are enrolled and split by the weights, within 4 σ each
    enrolled = LISTENERS - variants[None]
    assert _within(enrolled, LISTENERS, 0.3), variants
    assert _within(variants["v0"], enrolled, first_share), variants
    assert variants["v0"] + variants["v1"] == enrolled


def test_two_experiments_split_listeners_independently():
    # given two experiments (own salts) touching different parameters, half enrolled each
    first = _running(id=1, salt="one", share=0.5)
    second = _running(id=2, salt="two", share=0.5, touched=frozenset({"relevance"}))

    # then a listener's place in one says nothing of their place in the other
    both = sum(
        listener_place(salt="one", user_id=user_id) < 0.5
        and listener_place(salt="two", user_id=user_id) < 0.5
        for user_id in range(1, LISTENERS + 1)
    )
    assert _within(both, LISTENERS, 0.25)
    # and a listener is in one experiment at a time: the earlier one's, or the later one's
    # drawn from those the earlier did not take (25 % of all)
    taken = Counter(
        assignment.experiment.id if assignment else None
        for assignment in (
            experiment_assignment(user_id=user_id, experiments=[first, second])
            for user_id in range(1, LISTENERS + 1)
        )
    )
    assert _within(taken[1], LISTENERS, 0.5)
    assert _within(taken[2], LISTENERS, 0.25)


def test_a_listener_is_in_at_most_one_experiment_per_parameter():
    # given two running experiments changing the content weight, everyone enrolled in each
    first = _running(id=1, salt="first", touched=frozenset({"weights.content"}))
    second = _running(id=2, salt="second", touched=frozenset({"weights.content", "relevance"}))

    # then every listener is in the one started first, none in the other
    taken = {
        experiment_assignment(user_id=user_id, experiments=[first, second]).experiment.id
        for user_id in range(1, 501)
    }
    assert taken == {1}


def test_an_interleaving_experiment_assigns_both_variants():
    experiment = _running(mode=ExperimentMode.INTERLEAVE)

    assignment = experiment_assignment(user_id=7, experiments=[experiment])

    assert assignment is not None
    assert assignment.variant == INTERLEAVED
    assert assignment.teams is not None
    assert [team.key for team in assignment.teams] == ["v0", "v1"]


# --- only while running (from the database) ---------------------------------------------------

TWO = [VariantSpec(key="control"), VariantSpec(key="b", parameters={"relevance": 0.9})]


def test_a_running_experiment_enrols_and_a_stopped_one_nobody(
    curator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        experiment = experiment_create(name="Running", variants=TWO, by=curator)
    assert [e.id for e in running_experiments()] == [experiment.pk]
    assert experiment_assignment(user_id=1) is not None

    # when it is stopped
    with django_capture_on_commit_callbacks(execute=True):
        assert experiment_stop(experiment=experiment, by=curator)

    # then nobody is assigned, from the next lookup on
    assert running_experiments() == ()
    assert all(experiment_assignment(user_id=user_id) is None for user_id in range(1, 200))
    assert Experiment.objects.get(pk=experiment.pk).stopped_at is not None
    # and stopping it again changes nothing
    assert not experiment_stop(experiment=experiment, by=curator)


def test_experiments_not_started_or_ended_assign_nobody(curator):
    now = timezone.now()
    experiment_create(name="Later", variants=TWO, by=curator, starts_at=now + dt.timedelta(hours=1))
    experiment_create(
        name="Over",
        variants=TWO,
        by=curator,
        starts_at=now - dt.timedelta(days=2),
        ends_at=now - dt.timedelta(days=1),
    )

    assert running_experiments() == ()
    assert all(experiment_assignment(user_id=user_id) is None for user_id in range(1, 200))
    # the scheduled one starts by the clock, the cached lookup holding it already
    assert [e.name for e in running_experiments(now=now + dt.timedelta(hours=2))] == ["Later"]


def test_the_lookup_is_one_cache_read_and_is_forgotten_on_every_change(
    curator, django_assert_num_queries, django_capture_on_commit_callbacks
):
    # given the lookup cached (an empty one too)
    assert running_experiments() == ()
    with django_assert_num_queries(0):
        assert running_experiments() == ()
        assert experiment_assignment(user_id=3) is None

    # when an experiment is created through the services
    with django_capture_on_commit_callbacks(execute=True):
        experiment_create(name="New", variants=TWO, by=curator)

    # then the next lookup reads it, and is cached again
    assert [e.name for e in running_experiments()] == ["New"]
    with django_assert_num_queries(0):
        assert [e.name for e in running_experiments()] == ["New"]
    assert cache.get(RUNNING_KEY) is not None


def test_a_reader_that_queried_before_a_stop_does_not_cache_the_stopped_experiment(
    curator, monkeypatch, django_capture_on_commit_callbacks
):
    from recommendations.selectors import experiments as lookup

    with django_capture_on_commit_callbacks(execute=True):
        experiment = experiment_create(name="Racing", variants=TWO, by=curator)
    cache.delete(RUNNING_KEY)
    read = lookup.experiments_current_from_db
    raced: list[bool] = []

    def read_then_stop_commits(**kwargs):
        # a request reads the experiments while it still runs; a curator's stop commits
        # (and its on-commit work runs) before that request stores what it read
        rows = read(**kwargs)
        if not raced:
            raced.append(True)
            with django_capture_on_commit_callbacks(execute=True):
                experiment_stop(experiment=experiment, by=curator)
        return rows

    monkeypatch.setattr(lookup, "experiments_current_from_db", read_then_stop_commits)
    in_flight = running_experiments()

    # the request in flight still saw it; every later one sees it stopped
    assert [e.name for e in in_flight] == ["Racing"]
    assert running_experiments() == ()
    assert experiment_assignment(user_id=5) is None


def test_a_change_that_does_not_commit_leaves_the_lookup(curator):
    # given the lookup cached empty; an experiment created, its transaction not committed
    assert running_experiments() == ()
    experiment_create(name="Uncommitted", variants=TWO, by=curator)

    # then nothing was forgotten yet (forgetting happens on commit)
    assert cache.get(RUNNING_KEY) == ()


def test_an_unreadable_cached_lookup_is_read_anew(curator):
    from django_redis import get_redis_connection

    # given an experiment, and the lookup's key holding what this code cannot unpickle (an
    # entry of another release)
    experiment_create(name="Readable", variants=TWO, by=curator)
    get_redis_connection("default").set(cache.make_key(RUNNING_KEY), b"\x80\x05garbage")

    assert [e.name for e in running_experiments()] == ["Readable"]


@pytest.fixture
def own_redis():
    """A Redis of this test's own as the cache, stopped by the test; stopped in any case."""
    instance = helper_instance("experiments-lookup")
    try:
        url, _ = embedded.start_redis(instance)
        caches = {"default": {**settings.CACHES["default"], "LOCATION": url.replace("/0", "/1")}}
        with override_settings(CACHES=caches):
            yield instance
    finally:
        embedded.stop_redis(instance)


def test_with_redis_down_the_lookup_reads_the_database(own_redis, curator):
    experiment_create(name="Still on", variants=TWO, by=curator)
    assert embedded.stop_redis(own_redis)

    assert [e.name for e in running_experiments()] == ["Still on"]
    assert experiment_assignment(user_id=11) is not None
