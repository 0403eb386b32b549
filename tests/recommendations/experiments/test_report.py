"""The experiment report (recommendations.selectors.experiment_reports) against a hand
computation on fixture data: every rate, interval, difference and verdict."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from history.models import Interaction
from recommendations.engine.experiments import interleaving_credit
from recommendations.models import Experiment, ExperimentVariant, Impression
from recommendations.selectors.experiment_reports import (
    experiment_list,
    experiment_report,
    experiment_report_compute,
)
from recommendations.selectors.outcomes import ImpressionFilter, impression_team_clicks
from tests.accounts.factories import UserFactory
from tests.catalog.factories import TrackFactory

pytestmark = pytest.mark.django_db


def report_minimum_lower(settings):
    """Two lists and two listeners per variant are enough (the fixture data are small)."""
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "experiments": {**settings.RECOMMENDER["experiments"], "min_lists": 2, "min_listeners": 2},
    }


def _experiment(mode="split"):
    experiment = Experiment.objects.create(
        name=f"Blend {mode}", mode=mode, starts_at=timezone.now() - dt.timedelta(days=1)
    )
    ExperimentVariant.objects.create(experiment=experiment, key="control", name="Control")
    ExperimentVariant.objects.create(
        experiment=experiment,
        key="b",
        name="More content",
        parameters={"weights": {"content": 0.4}},
    )
    return experiment


def _serve(user, experiment, variant, tracks, teams=None, at=None):
    return Impression.objects.create(
        user=user,
        surface="api",
        served_at=at or timezone.now() - dt.timedelta(hours=1),
        experiment=experiment,
        variant=variant,
        items=[
            {
                "track_id": track.pk,
                "position": index + 1,
                "score": 0.5,
                "confidence": 0.5,
                "sources": {"collaborative": 0.5},
                **({"team": teams[index]} if teams else {}),
            }
            for index, track in enumerate(tracks)
        ],
    )


def _feedback(impression, track, kind, listened_ms=None):
    Interaction.objects.create(
        user=impression.user,
        track=track,
        kind=kind,
        occurred_at=impression.served_at + dt.timedelta(minutes=2),
        impression_id=impression.pk,
        listened_ms=listened_ms,
    )


def make_split_data():
    """Control: 2 listeners × 1 list of 4 tracks; 3 clicked (1 like), 1 skipped, plays heard
    0.5 and 1.0. Variant b: 2 listeners × 1 list of 4; 7 clicked, 1 disliked."""
    experiment = _experiment()
    t = [TrackFactory(duration_ms=200_000) for _ in range(8)]
    u1, u2, u3, u4 = (UserFactory() for _ in range(4))
    one = _serve(u1, experiment, "control", t[:4])
    _feedback(one, t[0], "play", listened_ms=100_000)  # heard 0.5
    two = _serve(u2, experiment, "control", t[:4])
    _feedback(two, t[0], "like")
    _feedback(two, t[1], "play", listened_ms=250_000)  # heard all of it: 1.0
    _feedback(two, t[2], "skip")
    three = _serve(u3, experiment, "b", t[4:])
    for track in t[4:]:
        _feedback(three, track, "play")  # length heard unknown
    four = _serve(u4, experiment, "b", t[4:])
    for track in t[4:7]:
        _feedback(four, track, "play")
    _feedback(four, t[7], "dislike")
    # a list outside the experiment and feedback after the window count for nothing here
    _serve(u1, None, "", t[4:])
    Interaction.objects.create(
        user=u1, track=t[3], kind="play", occurred_at=timezone.now() + dt.timedelta(hours=2)
    )
    return experiment


def test_split_report_matches_the_hand_computation(split_data, low_minimum):
    report = experiment_report_compute(experiment=split_data)
    control, b = report.variants
    assert (control.key, control.control, b.key, b.control) == ("control", True, "b", False)
    assert (control.listeners, control.impressions, control.served) == (2, 2, 8)
    assert (b.listeners, b.impressions, b.served) == (2, 2, 8)
    # control click-through 3/8, Wilson: p = 0.375, z²/n = 3.8415/8 = 0.48018
    # centre = 0.375 + 0.24009 = 0.61509; spread = 1.96 · √(0.375·0.625/8 + 3.8415/256)
    #        = 1.96 · √0.044303 = 0.41254; scale 1.48018 → [0.20255, 1.02763] / 1.48018
    assert control.click_through.value == pytest.approx(0.375)
    assert control.click_through.low == pytest.approx(0.13684, abs=1e-4)
    assert control.click_through.high == pytest.approx(0.69426, abs=1e-4)
    # b click-through 7/8: centre 1.11509; spread 1.96 · √(0.875·0.125/8 + 0.015006) = 0.33191
    # → [0.78318, 1.44700] / 1.48018
    assert b.click_through.value == pytest.approx(0.875)
    assert b.click_through.low == pytest.approx(0.52911, abs=1e-4)
    assert b.click_through.high == pytest.approx(0.97758, abs=1e-4)
    # like 1/8 and skip 1/8 in control, dislike 1/8 in b; Wilson 1/8: centre 0.125 + 0.24009
    # = 0.36509, spread 1.96 · √(0.125·0.875/8 + 0.015006) = 0.33191
    # → [0.03318, 0.69700] / 1.48018
    for rate in (control.like_rate, control.skip_rate, b.dislike_rate):
        assert rate.value == pytest.approx(0.125)
        assert rate.low == pytest.approx(0.02242, abs=1e-4)
        assert rate.high == pytest.approx(0.47088, abs=1e-4)
    assert control.dislike_rate.value == 0.0 and b.like_rate.value == 0.0
    # listened: 0.5 and 1.0 → mean 0.75; variance (1.25 − 2·0.5625) / 1 = 0.125;
    # half width 1.96 · √(0.125/2) = 0.49 → [0.26, 1.24 clipped to 1]
    assert control.listened_plays == 2
    assert control.listened_share.value == pytest.approx(0.75)
    assert control.listened_share.low == pytest.approx(0.26, abs=1e-3)
    assert control.listened_share.high == 1.0
    assert b.listened_share is None and b.listened_plays == 0
    # b − control = 7/8 − 3/8 = 0.5; resampling 2 listeners per arm, control's ratio is at most
    # 2/4 and b's at least 3/4, so every resample's difference is within [0.25, 0.75]
    assert control.comparison is None
    difference = b.comparison.difference
    assert difference.value == pytest.approx(0.5)
    assert 0.25 <= difference.low < 0.5 < difference.high <= 0.75
    assert b.comparison.verdict == "better"
    assert b.comparison.sentence.startswith("More content is better than Control")


def test_below_the_minimum_the_report_says_how_many_more_lists(split_data):
    # the default minimum: 100 lists and 20 listeners per variant
    report = experiment_report_compute(experiment=split_data)
    control, b = report.variants
    assert (control.lists_needed, control.listeners_needed, control.enough) == (98, 18, False)
    assert b.comparison.verdict == "not enough data yet"
    assert "98 more lists needed" in b.comparison.sentence
    assert b.comparison.difference.value == pytest.approx(0.5)  # shown, not concluded


def test_no_difference_when_the_interval_holds_zero(low_minimum):
    experiment = _experiment()
    tracks = [TrackFactory(duration_ms=200_000) for _ in range(2)]
    for variant in ("control", "b"):
        for clicks in (0, 1, 2):  # three listeners per arm, the same spread in both
            served = _serve(UserFactory(), experiment, variant, tracks)
            for track in tracks[:clicks]:
                _feedback(served, track, "play")
    _, b = experiment_report_compute(experiment=experiment).variants
    assert b.comparison.difference.value == pytest.approx(0.0)
    assert b.comparison.verdict == "no difference shown yet"


def test_an_experiment_without_lists_reports_empty_figures():
    experiment = _experiment()
    report = experiment_report_compute(experiment=experiment)
    assert [v.served for v in report.variants] == [0, 0]
    assert report.variants[0].click_through is None
    assert report.variants[1].comparison.verdict == "not enough data yet"
    assert report.variants[1].comparison.difference is None
    assert report.status == "running"


def make_interleaved_data():
    """Five interleaved lists of four tracks (teams control, b, control, b):
    1: b 2 clicks, control 1 → b · 2: control 1 → control · 3: one each → tie ·
    4: no click → none · 5 (another listener): b 1 → b."""
    experiment = _experiment("interleave")
    t = [TrackFactory(duration_ms=200_000) for _ in range(4)]
    teams = ["control", "b", "control", "b"]
    u1, u2 = UserFactory(), UserFactory()
    served = [_serve(u1, experiment, "interleaved", t, teams) for _ in range(4)]
    served.append(_serve(u2, experiment, "interleaved", t, teams))
    _feedback(served[0], t[1], "play")
    _feedback(served[0], t[3], "like")
    _feedback(served[0], t[0], "play")
    _feedback(served[1], t[2], "play")
    _feedback(served[1], t[1], "skip")
    _feedback(served[2], t[0], "like")
    _feedback(served[2], t[3], "play")
    _feedback(served[3], t[0], "dislike")
    _feedback(served[4], t[3], "play", listened_ms=50_000)
    return experiment


def test_interleaving_report_matches_the_hand_computation(interleaved_data, low_minimum):
    report = experiment_report_compute(experiment=interleaved_data)
    mixed = report.interleaving
    assert (mixed.impressions, mixed.listeners) == (5, 2)
    assert mixed.wins == [("control", 1), ("b", 2)]
    assert (mixed.with_preference, mixed.ties, mixed.without_click) == (3, 1, 1)
    # b's share of credited lists 2/3, Wilson: centre 0.66667 + 3.8415/6 = 1.30691;
    # spread 1.96 · √(0.22222/3 + 3.8415/36) = 0.83334; scale 2.28049
    assert mixed.preference.value == pytest.approx(2 / 3)
    assert mixed.preference.low == pytest.approx(0.20766, abs=1e-4)
    assert mixed.preference.high == pytest.approx(0.93851, abs=1e-4)
    # exact binomial: 2 · P(X ≤ 1 | n = 3) = 2 · 4/8 = 1
    assert mixed.p_value == 1.0
    assert mixed.verdict == "no difference shown yet"
    # per team: control contributed 2 tracks to each of 5 lists (10 served), clicked in
    # lists 1, 2, 3 (3 clicks); b 10 served, clicked 2 + 1 + 1 = 4
    control, b = report.variants
    assert (control.served, control.click_through.value) == (10, pytest.approx(0.3))
    assert (b.served, b.click_through.value) == (10, pytest.approx(0.4))
    assert b.listened_share.value == pytest.approx(0.25)
    assert control.skip_rate.value == 0.0 and b.skip_rate.value == pytest.approx(0.1)


def test_sql_credit_agrees_with_the_engines_rule(interleaved_data):
    # the rule of interleaving_credit applied in Python to each list's clicks per team
    where = ImpressionFilter(experiment_id=interleaved_data.pk)
    credits = []
    for _, _, clicks in impression_team_clicks(where):
        teams = [0] * clicks.get("control", 0) + [1] * clicks.get("b", 0)
        credits.append(interleaving_credit(teams, [True] * len(teams)))
    report = experiment_report_compute(experiment=interleaved_data).interleaving
    assert credits.count(0) == dict(report.wins)["control"]
    assert credits.count(1) == dict(report.wins)["b"]
    assert credits.count(None) == report.ties + report.without_click


def test_interleaving_credit_small_cases():
    assert interleaving_credit([0, 1, 0, 1], [False, True, False, False]) == 1
    assert interleaving_credit([0, 1, 0, 1], [True, True, True, False]) == 0
    assert interleaving_credit([0, 1], [True, True]) is None
    assert interleaving_credit([0, 1], [False, False]) is None


def test_a_clear_interleaving_preference_is_significant(low_minimum):
    experiment = _experiment("interleave")
    t = [TrackFactory() for _ in range(2)]
    for _ in range(10):  # b's track clicked in 9 lists, control's in 1: p = 22/1024
        served = _serve(UserFactory(), experiment, "interleaved", t, ["control", "b"])
        _feedback(served, t[1] if _ < 9 else t[0], "play")
    mixed = experiment_report_compute(experiment=experiment).interleaving
    assert mixed.p_value == pytest.approx(22 / 1024)
    assert mixed.verdict == "better"
    assert mixed.sentence.startswith("More content is better than Control")


def test_the_report_is_kept_a_minute(split_data, low_minimum):
    first = experiment_report(experiment=split_data)
    with CaptureQueriesContext(connection) as queries:
        again = experiment_report(experiment=split_data)
    assert len(queries) == 0
    assert again.computed_at == first.computed_at


def test_the_report_reads_aggregates_not_rows(split_data, low_minimum):
    with CaptureQueriesContext(connection) as queries:
        experiment_report_compute(experiment=split_data)
    # the variants, then one aggregate per listener and variant
    assert len(queries) == 2


def test_status_of_each_experiment():
    now = timezone.now()
    running = _experiment()
    Experiment.objects.create(name="later", starts_at=now + dt.timedelta(days=1))
    Experiment.objects.create(
        name="over", starts_at=now - dt.timedelta(days=3), ends_at=now - dt.timedelta(days=1)
    )
    Experiment.objects.create(name="halted", starts_at=now, stopped_at=now)
    statuses = {experiment.name: status for experiment, status in experiment_list()}
    assert statuses == {
        running.name: "running",
        "later": "scheduled",
        "over": "ended",
        "halted": "stopped",
    }


def test_a_kept_report_shows_the_experiment_as_it_is_now(split_data, low_minimum):
    # given a report computed (and kept) while the experiment runs
    assert experiment_report(experiment=split_data).status == "running"

    # when a curator stops it and renames it within the minute
    split_data.stopped_at = timezone.now()
    split_data.name = "Blend split (stopped)"
    split_data.save()
    with CaptureQueriesContext(connection) as queries:
        report = experiment_report(experiment=split_data)

    # then the kept figures come with its status, stop time and name of now (no query)
    assert len(queries) == 0
    assert report.status == "stopped"
    assert report.stopped_at == split_data.stopped_at
    assert report.name == "Blend split (stopped)"
    assert report.variants[1].click_through.value == pytest.approx(0.875)
