"""Build catalog/data/demo_catalog.csv.gz, the small demo catalog `make run` loads.

    .venv/bin/python scripts/make_demo_catalog.py ../shared/datasets/catalog/spotify_tracks.csv

Deterministic: from every genre the most popular tracks plus a seeded random sample of the rest,
plus the tracks that the documentation and tests name (The Beatles, "Bohemian Rhapsody", some
Hangul and Kana titles). Every row of a chosen track is kept, so a track listed under several
genres keeps them all. The rows are written unchanged, in the original order.
"""

from __future__ import annotations

import csv
import gzip
import random
import sys
from collections import defaultdict
from pathlib import Path

TOP_PER_GENRE = 18
RANDOM_PER_GENRE = 12
SEED = 20261123
OUT = Path(__file__).resolve().parent.parent / "catalog" / "data" / "demo_catalog.csv.gz"


SCRIPTS = {  # script: (first, last code point, how many titles to keep)
    "hangul": ("\uac00", "\ud7af", 15),
    "kana": ("\u3040", "\u30ff", 25),
    "cyrillic": ("\u0400", "\u04ff", 15),
}


def _script(text: str) -> str | None:
    for name, (first, last, _) in SCRIPTS.items():
        if any(first <= ch <= last for ch in text):
            return name
    return None


def main(source: str) -> None:
    with open(source, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames
        rows = list(reader)
    by_genre: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_genre[row["track_genre"]].append(row)

    rng = random.Random(SEED)
    chosen: set[str] = set()
    for genre in sorted(by_genre):
        ranked = sorted(by_genre[genre], key=lambda r: (-int(r["popularity"]), r["track_id"]))
        chosen.update(r["track_id"] for r in ranked[:TOP_PER_GENRE])
        rest = ranked[TOP_PER_GENRE:]
        chosen.update(r["track_id"] for r in rng.sample(rest, min(RANDOM_PER_GENRE, len(rest))))
    kept_per_script: dict[str, int] = defaultdict(int)
    for row in sorted(rows, key=lambda r: (-int(r["popularity"]), r["track_id"])):
        script = _script(row["track_name"])
        if "beatles" in row["artists"].lower() or "bohemian rhapsody" in row["track_name"].lower():
            chosen.add(row["track_id"])
        elif script and kept_per_script[script] < SCRIPTS[script][2]:
            if row["track_id"] not in chosen:
                kept_per_script[script] += 1
            chosen.add(row["track_id"])

    kept = [row for row in rows if row["track_id"] in chosen]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(OUT, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(kept)
    print(f"{len(kept)} rows, {len(chosen)} tracks -> {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/catalog/spotify_tracks.csv")
