"""Playlist import on the full catalog: what matching 500 entries costs in the request.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m musicrec.stack bench [--keep] -- \\
        .venv/bin/python scripts/bench_playlist_import.py \\
        ../shared/datasets/catalog/spotify_tracks.csv

Loads the catalog into the fresh bench database (``--keep``: reuses the one loaded last time),
then imports (each in a transaction rolled
back, 5 runs, median and max) three files of 500 entries: Exportify's sample (its first 500
rows), an M3U of 500 random catalog tracks named only by "artist - title" (no Spotify id;
titles in upper case, a third with " - Remastered" added), and the JSPF export of a playlist of
500 tracks. Prints the time, the queries and the match count of each, the plan of the title
lookup, and what loading the whole catalog's keys (``CatalogIndex.load``, what the listening
imports do in a worker) would cost instead.
"""

from __future__ import annotations

import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXPORTIFY = ROOT.parent / "shared/datasets/user-exports/exportify_liked_songs.sample.csv"
RUNS = 5
SEED = 20261130


def main(catalog: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from catalog.models import Track
    from history.selectors.matching import CatalogIndex
    from playlists.selectors.transfer import playlist_export
    from playlists.services.playlists import playlist_create
    from playlists.services.transfer import playlist_import

    if not Track.objects.exists():
        started = time.perf_counter()
        call_command("import_catalog", catalog, "--no-progress", verbosity=0, stdout=io.StringIO())
        print(f"catalog loaded in {time.perf_counter() - started:.1f} s")
    print(f"catalog: {Track.objects.count()} tracks")
    owner, _ = User.objects.get_or_create(username="bench-playlists")

    rng = random.Random(SEED)
    ids = list(Track.objects.values_list("id", flat=True))
    picked = list(Track.objects.with_related().filter(id__in=rng.sample(ids, 500)))
    lines = ["#EXTM3U"]
    for i, track in enumerate(picked):
        title = track.title.upper() + (" - Remastered" if i % 3 == 0 else "")
        lines += [f"#EXTINF:-1,{track.artist_names} - {title}", f"file{i}.mp3"]
    by_name = "\n".join(lines).encode()
    with transaction.atomic():
        playlist = playlist_create(owner=owner, name="bench", track_ids=[t.pk for t in picked])
        jspf = playlist_export(playlist=playlist, fmt="jspf").body
        transaction.set_rollback(True)
    exportify = b"\n".join(EXPORTIFY.read_bytes().split(b"\n")[:501])

    for label, data, name in (
        ("Exportify CSV, 500 rows", exportify, "Liked.csv"),
        ("M3U by artist - title only, 500", by_name, "names.m3u"),
        ("JSPF export (Spotify ids), 500", jspf, "export.jspf"),
    ):
        times, queries, matched = [], 0, 0
        for _ in range(RUNS):
            with transaction.atomic():
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    outcome = playlist_import(owner=owner, upload=SimpleUploadedFile(name, data))
                    times.append(time.perf_counter() - started)
                queries, matched = len(captured), outcome.matched
                transaction.set_rollback(True)
        median_ms, max_ms = statistics.median(times) * 1000, max(times) * 1000
        print(
            f"{label:34s} {len(data) / 1024:6.0f} kB  median {median_ms:6.1f} ms"
            f"  max {max_ms:6.1f} ms  {queries} queries  matched {matched}/500"
        )
        if name == "names.m3u":
            for entry in outcome.unmatched[:5]:
                print(f"    not matched: {entry['artist']} - {entry['title']}")

    with connection.cursor() as cursor:
        cursor.execute(
            """EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
               SELECT found.id FROM unnest(%s::text[]) AS wanted(stem)
               CROSS JOIN LATERAL (SELECT id FROM catalog_track
                  WHERE lower(title) >= lower(wanted.stem)
                    AND lower(title) < lower(wanted.stem) || chr(1114111)
                  ORDER BY lower(title) LIMIT 100) AS found""",
            [[t.title for t in picked]],
        )
        print("\n".join(row[0] for row in cursor.fetchall()))

    started = time.perf_counter()
    CatalogIndex.load()
    print(f"CatalogIndex.load (every catalog key): {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main(
        sys.argv[1]
        if len(sys.argv) > 1
        else str(ROOT.parent / "shared/datasets/catalog/spotify_tracks.csv")
    )
