"""Listening-import benchmark: listens per second of ``listen_import_process``.

    make bench-history   # or, for this part alone:
    .venv/bin/python -m musicrec.stack bench -- .venv/bin/python scripts/bench_listen_import.py \
        --listens-dir ../shared/datasets/listens

The launcher gives a fresh, migrated, empty database (``var/bench/``); this script loads the
demo catalog (3,236 tracks), builds a Last.fm scrobble CSV of ``--listens`` (default 100,000)
listens in memory — half real scrobbles of the Last.fm 1K sample (mostly not in the catalog,
with their real artist and title spellings), half catalog tracks written the way exports write
them (lower case, accents dropped, " - Remastered" removed, "feat." parts) — at distinct
times, then times ``listen_import_create`` + ``listen_import_process`` and a second import of
the same file (idempotent: it must add nothing).
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchlib import django_setup_with_demo_catalog

ROOT = Path(__file__).resolve().parent.parent
# Inside the listens dataset folder: the Last.fm 1K sample (user, time, artist id, artist name,
# track id, track name; tab-separated).
LASTFM_1K = Path("lastfm_1k_sample") / "userid-timestamp-artid-artname-traid-traname.head5000.tsv"
SEED = 20261123


def _scrobbles(listens_dir: Path) -> list[tuple[str, str]]:
    path = listens_dir / LASTFM_1K
    if not path.exists():
        raise SystemExit(f"{path} not found: pass --listens-dir (the datasets' listens folder)")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            cells = line.rstrip("\n").split("\t")
            if len(cells) == 6 and cells[3] and cells[5]:
                rows.append((cells[3], cells[5]))
    return rows


def _as_exported(artist: str, title: str, rng: random.Random) -> tuple[str, str]:
    """How an export may spell a catalog track."""
    choice = rng.random()
    if choice < 0.3:
        title = title.split(" - Remaster")[0]
    elif choice < 0.5:
        artist, title = artist.lower(), title.lower()
    elif choice < 0.6:
        strip = "".join(
            c for c in unicodedata.normalize("NFKD", artist) if not unicodedata.combining(c)
        )
        artist = strip
    return artist, title


def build_csv(listens: int, listens_dir: Path) -> bytes:
    from catalog.models import Track

    rng = random.Random(SEED)
    scrobbles = _scrobbles(listens_dir)
    catalog = [
        (track.track_artists.all()[0].artist.name, track.title)
        for track in Track.objects.prefetch_related("track_artists__artist")
        if track.track_artists.all()
    ]
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(
        ["uts", "utc_time", "artist", "artist_mbid", "album", "album_mbid", "track", "track_mbid"]
    )
    start = datetime(2015, 1, 1, tzinfo=UTC)
    for number in range(listens):
        when = start + timedelta(seconds=180 * number)
        if number % 2:
            artist, title = rng.choice(scrobbles)
        else:
            artist, title = _as_exported(*rng.choice(catalog), rng)
        writer.writerow(
            [int(when.timestamp()), when.strftime("%d %b %Y, %H:%M"), artist, "", "", "", title, ""]
        )
    return out.getvalue().encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listens", type=int, default=100_000)
    parser.add_argument(
        "--listens-dir",
        type=Path,
        default=ROOT.parent / "shared" / "datasets" / "listens",
        help="the datasets' listens folder (holding lastfm_1k_sample/)",
    )
    args = parser.parse_args()

    django_setup_with_demo_catalog()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import User
    from history.models import Interaction
    from history.services.imports import listen_import_create, listen_import_process

    user, _ = User.objects.get_or_create(username="bench-listener", email="bench@example.com")
    data = build_csv(args.listens, args.listens_dir.resolve())
    print(f"file: {args.listens:,} listens, {len(data) / 1e6:.1f} MB (Last.fm CSV)")

    for run in ("first import", "same file again"):
        started = time.perf_counter()
        listen_import = listen_import_create(
            user=user, file=SimpleUploadedFile("scrobbles.csv", data), enqueue=False
        )
        created_at = time.perf_counter()
        listen_import = listen_import_process(import_id=listen_import.pk)
        done = time.perf_counter()
        assert listen_import.status == "done", listen_import.error
        print(
            f"{run}: create (checks) {created_at - started:.2f}s, process {done - created_at:.2f}s "
            f"= {listen_import.listens / (done - created_at):,.0f} listens/s; "
            f"matched {listen_import.matched:,}, unmatched {listen_import.unmatched:,}, "
            f"created {listen_import.created:,}, duplicates {listen_import.duplicates:,}"
        )
    print(f"plays stored: {Interaction.objects.filter(user=user).count():,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
