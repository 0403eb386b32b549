"""``manage.py evaluate_recommender`` on a tiny hand-made listens folder (mpd_subset format)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from history.listen_formats.matching import listen_key
from recommendations.selectors.catalog import engine_catalog
from recommendations.selectors.evaluation import listens_match
from tests.catalog.factories import ArtistFactory, GenreFactory, TrackFactory

pytestmark = pytest.mark.django_db

PLAYLISTS_HEADER = ["pid", "source_file", "name", "description", "num_tracks", "num_followers"]
TRACKS_HEADER = ["pid", "pos", "track_uri", "track_name", "artist_name"]


def _tracks():
    """40 catalog tracks: 10 artists of 4 tracks, two genres."""
    rock, jazz = GenreFactory(name="eval-rock"), GenreFactory(name="eval-jazz")
    artists = [ArtistFactory(name=f"Eval Artist {a}") for a in range(10)]
    return [
        TrackFactory(
            title=f"Eval Song {t}",
            artists=[artists[t // 4]],
            genres=[rock if t < 20 else jazz],
            energy=(t % 10) / 10,
        )
        for t in range(40)
    ]


def _write_folder(folder: Path, tracks) -> dict[str, int]:
    """Eight playlists of 12 matched tracks (half by Spotify id, half by artist + title under
    an id the catalog does not have, and "- Remastered" / case changes the key folds), plus
    rows matching nothing; a ninth playlist with only 5 matches; rows of a playlist missing
    from playlists.csv. Returns the expected counts."""
    folder.mkdir()
    rows = []
    for pid in range(8):
        chosen = [tracks[(pid * 5 + i) % 40] for i in range(12)]
        for pos, track in enumerate(chosen):
            artist = track.artists.first().name
            if pos % 2:
                uri, title = "spotify:track:" + "x" * 22, f"{track.title.upper()} - Remastered 2011"
                artist = artist.lower()
            else:
                uri, title = f"spotify:track:{track.spotify_id}", track.title
            rows.append([pid, pos, uri, title, artist])
        rows.append([pid, 12, "spotify:track:" + "y" * 22, "Nothing Like It", "Nobody"])
        rows.append([pid, 13, "not a uri", "Also Unknown", "No One"])
    for pos, track in enumerate(tracks[:5]):
        rows.append([8, pos, f"spotify:track:{track.spotify_id}", track.title, "whoever"])
    rows.append([99, 0, f"spotify:track:{tracks[0].spotify_id}", tracks[0].title, "x"])
    with (folder / "playlists.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PLAYLISTS_HEADER)
        writer.writerows([[pid, "slice.json", f"list {pid}", "", 14, 10] for pid in range(9)])
    with gzip.open(folder / "playlist_tracks.csv.gz", "wt", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRACKS_HEADER)
        writer.writerows(rows)
    return {"listeners": 8, "rows": 8 * 12, "spotify": 8 * 6 + 5, "name": 8 * 6}


def _table_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_the_key_the_test_relies_on_folds_case_and_remaster_suffixes():
    assert listen_key("Eval Artist 1", "Eval Song 4") == listen_key(
        "eval artist 1", "EVAL SONG 4 - Remastered 2011"
    )


def test_matching_keeps_listeners_with_ten_matches_and_counts_methods(tmp_path):
    # given
    tracks = _tracks()
    expected = _write_folder(tmp_path / "listens", tracks)

    # when
    loaded = engine_catalog()
    listens = listens_match(path=tmp_path / "listens", catalog=loaded)

    # then the 5-match playlist and the unlisted one are gone, both methods counted
    m = listens.matching
    assert listens.listener_ids == [str(pid) for pid in range(8)]
    assert m.listeners_kept == expected["listeners"]
    assert m.listeners_with_a_match == 9
    assert m.rows_by_spotify_id == expected["spotify"]
    assert m.rows_by_name == expected["name"]
    assert m.rows_unmatched == 8 * 2
    assert m.pairs_kept == len(listens.track) == 8 * 12
    ids = set(loaded.track_ids[listens.track].tolist())
    assert ids <= {t.pk for t in tracks}


def test_command_writes_every_figure_for_every_k_and_writes_nothing_to_the_db(tmp_path):
    # given
    tracks = _tracks()
    expected = _write_folder(tmp_path / "listens", tracks)
    before = _table_counts()
    out = io.StringIO()

    # when
    call_command(
        "evaluate_recommender",
        "--listens",
        str(tmp_path / "listens"),
        "--k",
        "5",
        "10",
        "--quick",
        "--no-progress",
        "--out",
        str(tmp_path / "out"),
        stdout=out,
    )

    # then
    assert _table_counts() == before
    report = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    assert report["data"]["listeners"] == expected["listeners"]
    assert report["data"]["rows"] == 8 * 12
    assert report["data"]["tracks"] == len({(p * 5 + i) % 40 for p in range(8) for i in range(12)})
    assert set(report["models"]) == {"hybrid", "popularity", "itemknn", "als", "ease"}
    for name, figures in report["models"].items():
        for k in (5, 10):
            for key in ("recall", "ndcg", "coverage", "novelty", "diversity", "gini"):
                value = figures[f"{key}@{k}"]
                assert isinstance(value, float), (name, key, k)
        for key in ("coverage", "novelty", "diversity", "gini", "train_s", "score_ms"):
            assert isinstance(figures[key], float), (name, key)
        assert 0.0 <= figures["ndcg@10"] <= 1.0
    assert set(report["cold_start"]) == {"1", "3", "5"}
    assert "hybrid" in report["cold_start"]["1"] and "ease" in report["cold_start"]["1"]
    assert "hybrid" in report["whole_catalog"]
    assert report["whole_catalog"]["hybrid"]["coverage"] <= report["models"]["hybrid"]["coverage"]
    assert set(report["targets"]) >= {"ndcg@10 >= 1.15 x ease", "gini < als"}
    assert (tmp_path / "out" / "evaluation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = out.getvalue()
    assert "K = 5" in text and "K = 10" in text and "hybrid" in text
    assert "No demographics" in text


def test_command_refuses_a_missing_folder_clearly(tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("evaluate_recommender", "--listens", str(tmp_path / "nowhere"))


def test_command_refuses_a_folder_in_another_format(tmp_path):
    (tmp_path / "playlists.csv").write_text("user,artist\n1,x\n")
    (tmp_path / "playlist_tracks.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(CommandError, match=r"playlists\.csv has no column pid"):
        call_command("evaluate_recommender", "--listens", str(tmp_path))


def test_command_refuses_a_corrupt_tracks_file(tmp_path):
    (tmp_path / "playlists.csv").write_text("pid\n1\n")
    (tmp_path / "playlist_tracks.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("evaluate_recommender", "--listens", str(tmp_path))


def test_command_says_when_too_few_listeners_match(tmp_path):
    # given playlists of tracks the catalog does not have
    folder = tmp_path / "listens"
    folder.mkdir()
    (folder / "playlists.csv").write_text("pid\n1\n")
    with gzip.open(folder / "playlist_tracks.csv.gz", "wt") as handle:
        handle.write("pid,pos,track_uri,track_name,artist_name\n1,0,spotify:track:x,Nope,None\n")

    # when / then
    with pytest.raises(CommandError, match="nothing to evaluate"):
        call_command("evaluate_recommender", "--listens", str(folder), "--no-progress")


def test_command_refuses_a_k_below_one(tmp_path):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("evaluate_recommender", "--listens", str(tmp_path), "--k", "0")


def test_command_tunes_the_unplayed_damping_on_validation_when_asked(tmp_path):
    # given
    _write_folder(tmp_path / "listens", _tracks())
    out = io.StringIO()

    # when
    call_command(
        "evaluate_recommender",
        "--listens",
        str(tmp_path / "listens"),
        "--quick",
        "--tune-unplayed",
        "--no-progress",
        "--out",
        str(tmp_path / "out"),
        stdout=out,
    )

    # then every grid value was tried (the quick grid: collaborative 1.0 and 0.7), each with
    # the cold items' recall it costs, and the best validation NDCG@10 is the one chosen
    report = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    trials = [t for t in report["trials"] if t["stage"] == "unplayed"]
    assert {t["params"]["collaborative_unplayed"] for t in trials} == {1.0, 0.7}
    assert all(0.0 <= t["params"]["cold_recall@10"] <= 1.0 for t in trials)
    # (a heavier damping is chosen only for a gain above 0.5 % of NDCG@10: it costs the cold
    # items): the chosen pair was tried, and no trial beats it by more than that
    chosen = report["tuned"]["predictors"]
    pair = (chosen["collaborative_unplayed"], chosen["content_unplayed"])
    ndcg = {
        (t["params"]["collaborative_unplayed"], t["params"]["content_unplayed"]): t["ndcg@10"]
        for t in trials
    }
    assert pair in ndcg
    assert max(ndcg.values()) <= ndcg[pair] * 1.005 + 1e-5
    assert "Unplayed damping" in out.getvalue()
