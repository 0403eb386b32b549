"""The simulation of a split test against interleaving (engine and ``manage.py
simulate_experiment``) on small generated data with a known quality gap."""

from __future__ import annotations

import csv
import gzip
import re
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from recommendations.engine.experiments import ClickModel, simulate_split_and_interleaving


def _synthetic_lists(seed: int = 1, users: int = 300, tracks: int = 500):
    """Listeners who truly like 20 tracks each; the better ranker lists k of them (k varies a
    lot between listeners, as real taste does), the worse one k − 1."""
    rng = np.random.default_rng(seed)
    liked, better, worse = [], [], []
    for _ in range(users):
        good = rng.choice(tracks, 20, replace=False)
        rest = [t for t in rng.permutation(tracks) if t not in set(good)]
        k = int(rng.choice([0, 0, 0, 1, 2, 4, 8]))
        w = max(0, k - 1)
        liked.append(good)
        better.append([*good[:k], *rest[: 10 - k]])
        worse.append([*good[:w], *rest[10 : 20 - w]])
    return better, worse, liked


def test_interleaving_needs_fewer_impressions_than_a_split_test():
    better, worse, liked = _synthetic_lists()
    result = simulate_split_and_interleaving(
        better, worse, liked, n=10, counts=[50, 100, 200, 500, 1000, 2000], runs=60, seed=0
    )
    assert result.expected_ctr[0] > result.expected_ctr[1]
    assert result.interleave_preference > 0.6
    interleaving = result.needed("interleave")
    split = result.needed("split")
    assert interleaving is not None
    assert split is None or interleaving < split
    # at every count interleaving decides at least as often, and never the wrong way round
    assert all(i >= s for i, s in zip(result.interleave_correct, result.split_correct, strict=True))
    assert max(result.interleave_wrong) == 0.0


def test_without_a_difference_both_methods_rarely_decide():
    better, _, liked = _synthetic_lists()
    result = simulate_split_and_interleaving(
        better, better, liked, n=10, counts=[200, 1000], runs=100, seed=2
    )
    # the same ranker twice: a decision either way is a false positive (5 % at 95 %)
    for correct, wrong in (
        (result.split_correct, result.split_wrong),
        (result.interleave_correct, result.interleave_wrong),
    ):
        assert all(c + w <= 0.15 for c, w in zip(correct, wrong, strict=True))


def test_click_model_position_bias_and_activity():
    clicks = ClickModel(relevant=0.9, noise=0.02)
    p = clicks.probabilities([True, True, False, True])
    # looked at with 1 / log2(1 + position): 1, 0.6309, 0.5, 0.4307
    assert p == pytest.approx([0.9, 0.9 * 0.63093, 0.02 * 0.5, 0.9 * 0.43068], abs=1e-4)
    assert np.all(ClickModel().activity_factors(5, np.random.default_rng(0)) == 1.0)
    factors = ClickModel(activity=1.0).activity_factors(20_000, np.random.default_rng(0))
    assert factors.mean() == pytest.approx(1.0, abs=0.05) and factors.std() > 0.5


def test_simulation_refuses_bad_input():
    better, worse, liked = _synthetic_lists(users=5)
    with pytest.raises(ValueError):
        simulate_split_and_interleaving(better, worse, liked, n=10, counts=[2], runs=1)
    with pytest.raises(ValueError):
        simulate_split_and_interleaving(better[:3], worse, liked, n=10, counts=[10], runs=1)


# ------------------------------------------------------------------------------- the command


@pytest.fixture
def listens(tmp_path):
    """A listens folder in the mpd_subset format: 160 playlists in 4 taste groups of 40
    tracks (each playlist 10 of its group's tracks, the group's first ones more often, 5 of
    any group's, and 2 of 10 tracks everyone plays). ItemKNN finds the groups; popularity
    cannot (NDCG@10 about 0.32 against 0.09)."""
    rng = np.random.default_rng(7)
    folder = tmp_path / "listens"
    folder.mkdir()
    with (folder / "playlists.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["pid", "name"])
        writer.writerows([pid, f"list {pid}"] for pid in range(160))
    weights = 1.0 / np.arange(1, 41)
    with gzip.open(folder / "playlist_tracks.csv.gz", "wt", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["pid", "pos", "track_uri", "track_name", "artist_name"])
        for pid in range(160):
            group = pid % 4
            own = rng.choice(40, 10, replace=False, p=weights / weights.sum())
            other = rng.choice(160, 5, replace=False)
            hits = rng.choice(10, 2, replace=False)
            names = [f"g{group}t{t}" for t in own] + [f"g{o // 40}t{o % 40}" for o in other]
            names = sorted(set(names)) + [f"hit{t}" for t in hits]
            for pos, name in enumerate(names):
                uri = f"spotify:track:{name:0>22}"
                writer.writerow([pid, pos, uri, name, f"artist {name[:2]}"])
    return folder


def test_the_command_prints_the_table_and_interleaving_wins(listens):
    out, err = StringIO(), StringIO()
    call_command(
        "simulate_experiment",
        str(listens),
        "--runs",
        "40",
        "--impressions",
        "20",
        "50",
        "100",
        "200",
        "500",
        "1000",
        "--seed",
        "1",
        stdout=out,
        stderr=err,
    )
    text = out.getvalue()
    assert "Listens: 160 listeners" in text
    ndcg = dict(re.findall(r"(itemknn|popularity) (0\.\d{4})", text))
    assert float(ndcg["itemknn"]) > float(ndcg["popularity"])
    assert "Truly better: itemknn." in text
    assert re.search(r"^\s+1,000\s+\d+\.\d% \(\d+\.\d%\)\s+\d+\.\d% \(\d+\.\d%\)$", text, re.M)
    found = re.search(r"split test ([\d,]+|not within the grid), interleaving ([\d,]+)\.", text)
    assert found, text
    split = float("inf") if found[1] == "not within the grid" else int(found[1].replace(",", ""))
    assert int(found[2].replace(",", "")) < split
    assert "simulating" in err.getvalue()  # the progress bar


def test_the_command_refuses_bad_input(tmp_path, listens):
    with pytest.raises(CommandError, match="not a folder"):
        call_command("simulate_experiment", str(tmp_path / "nowhere"), "--no-progress")
    with pytest.raises(CommandError, match="two different rankers"):
        call_command("simulate_experiment", str(listens), "--variants", "itemknn", "itemknn")
    with pytest.raises(CommandError, match="--runs"):
        call_command("simulate_experiment", str(listens), "--runs", "0")
    with pytest.raises(CommandError, match="at least 4"):
        call_command("simulate_experiment", str(listens), "--impressions", "2")
    with pytest.raises(CommandError, match="nothing to simulate"):
        call_command("simulate_experiment", str(listens), "--min-tracks", "500", "--no-progress")


def test_the_command_refuses_an_impression_count_too_large_to_simulate(listens):
    # 10^10 lists of 10 would need terabytes: refused before anything is read or fitted
    with pytest.raises(CommandError, match="at most 1,000,000"):
        call_command(
            "simulate_experiment", str(listens), "--impressions", "10000000000", "--no-progress"
        )
    with pytest.raises(CommandError, match="at most 1,000,000"):
        call_command(
            "simulate_experiment",
            str(listens),
            *("--impressions", "200000", "--n", "100", "--no-progress"),
        )
