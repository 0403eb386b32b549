"""Demo listeners: a few hundred plausible listeners so the recommender has data on first start.

Each demo listener (``demo-0001`` …, e-mail ``@demo.musicrec.invalid``, unusable password) gets
varied demographics, 2–4 preferred and 1–2 disliked genres, a history of 10–50 tracks drawn
mostly from the preferred genres, and about a hundred interactions over the last 60 days (plays
weighted by popularity within the preferred genres, skips — most often of disliked or unfamiliar
genres — likes and dislikes). Everything is drawn from an RNG seeded by (seed, listener number),
so listener 7 is the same whether 10 or 300 are created, and re-running creates nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import GenrePreference, User
from accounts.validators import AGE_BANDS, Activity, Gender, Mood, Occupation
from catalog.models import Track
from history.models import Interaction
from history.services.entries import history_entries_add
from history.services.interactions import opinions_from_interactions

DEMO_USERNAME_PREFIX = "demo-"
DEMO_EMAIL_DOMAIN = "demo.musicrec.invalid"
DEMO_SIGNIN_USERNAME = "demo"  # the one demo account with a usable (printed) password
DEMO_SEED = 20_240_601
MAX_DEMO_LISTENERS = 9_999  # demo-0001 … demo-9999
HISTORY_SIZE = (10, 50)
EVENTS_PER_LISTENER = (60, 140)
DAYS_BACK = 60
MIN_GENRE_TRACKS = 20  # genres with fewer tracks are not offered as a taste
CHUNK = 50  # listeners per transaction: a crash leaves whole listeners, never half of one

COUNTRIES = ["US", "GB", "DE", "FR", "ES", "IT", "BR", "MX", "JP", "KR", "IN", "SE", "NL", "CA"]
COUNTRY_WEIGHTS = [20, 10, 9, 7, 6, 5, 9, 5, 7, 5, 7, 3, 3, 4]
GENDERS = [Gender.FEMALE, Gender.MALE, Gender.NON_BINARY, Gender.OTHER]
GENDER_WEIGHTS = [46, 46, 5, 3]
AGE_BAND_WEIGHTS = [8, 24, 26, 18, 12, 7, 5]
WORKING = [o for o in Occupation.values if o not in (Occupation.STUDENT, Occupation.RETIRED)]


def demo_username(number: int) -> str:
    return f"{DEMO_USERNAME_PREFIX}{number:04d}"


def demo_email(username: str) -> str:
    return f"{username}@{DEMO_EMAIL_DOMAIN}"


def demo_listeners():
    """Every demo account (the numbered listeners and the sign-in account)."""
    return User.objects.filter(email__iendswith=f"@{DEMO_EMAIL_DOMAIN}")


@dataclass
class DemoSeedSummary:
    created: int = 0
    existing: int = 0
    history_entries: int = 0
    interactions: int = 0
    opinions: int = 0
    created_usernames: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Catalog:
    """The demo catalog as arrays: what the generator draws from."""

    track_ids: np.ndarray  # int64
    popularity: np.ndarray  # float
    duration_ms: np.ndarray  # int64
    genre_ids: list[int]  # genres with enough tracks
    genre_tracks: dict[int, np.ndarray]  # genre id → indexes into track_ids
    track_genres: list[frozenset[int]]  # index → genre ids

    @classmethod
    def load(cls) -> _Catalog:
        rows = list(Track.objects.order_by("id").values_list("id", "popularity", "duration_ms"))
        if not rows:
            raise ValueError("The catalog is empty: load it first (manage.py bootstrap_demo).")
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        index = {int(track_id): i for i, track_id in enumerate(ids)}
        by_genre: dict[int, list[int]] = defaultdict(list)
        track_genres: list[set[int]] = [set() for _ in rows]
        links = Track.genres.through.objects.order_by("track_id", "genre_id")
        for track_id, genre_id in links.values_list("track_id", "genre_id"):
            by_genre[genre_id].append(index[track_id])
            track_genres[index[track_id]].add(genre_id)
        genres = sorted(g for g, members in by_genre.items() if len(members) >= MIN_GENRE_TRACKS)
        if len(genres) < 6:
            raise ValueError("The catalog has too few genres to draw demo tastes from.")
        return cls(
            track_ids=ids,
            popularity=np.array([r[1] for r in rows], dtype=float),
            duration_ms=np.array([r[2] for r in rows], dtype=np.int64),
            genre_ids=genres,
            genre_tracks={g: np.array(by_genre[g], dtype=np.int64) for g in genres},
            track_genres=[frozenset(s) for s in track_genres],
        )

    def weights(self, indexes: np.ndarray) -> np.ndarray:
        """Popular tracks are drawn more often (but every track can be)."""
        w = (self.popularity[indexes] + 5.0) ** 1.5
        return w / w.sum()


@dataclass
class _Listener:
    user: User
    preferred: list[int]
    disliked: list[int]
    history: list[int]  # track ids
    events: list[Interaction]


def _demographics(rng: np.random.Generator) -> dict[str, object]:
    band = int(rng.choice(len(AGE_BANDS), p=np.array(AGE_BAND_WEIGHTS) / sum(AGE_BAND_WEIGHTS)))
    _, low, high = AGE_BANDS[band]
    age = int(rng.integers(low, (high if high is not None else 85) + 1))
    if age < 18:
        occupation = Occupation.STUDENT
    elif age >= 67:
        occupation = Occupation.RETIRED if rng.random() < 0.85 else Occupation.OTHER
    elif age < 25 and rng.random() < 0.55:
        occupation = Occupation.STUDENT
    else:
        occupation = str(rng.choice(WORKING))
    return {
        "age": age,
        "gender": str(rng.choice(GENDERS, p=np.array(GENDER_WEIGHTS) / sum(GENDER_WEIGHTS))),
        "country": str(rng.choice(COUNTRIES, p=np.array(COUNTRY_WEIGHTS) / sum(COUNTRY_WEIGHTS))),
        "occupation": str(occupation),
        "mood": str(rng.choice(["", *Mood.values])),
        "activity": str(rng.choice(["", *Activity.values])),
    }


def _generate(
    *, catalog: _Catalog, username: str, number: int, seed: int, now: dt.datetime
) -> _Listener:
    rng = np.random.default_rng([seed, number])
    user = User(
        username=username,
        email=demo_email(username),
        password=make_password(None),
        first_name="Demo",
        last_name="listener",
        onboarded_at=now,  # their profile is complete: signing in leads home, not to onboarding
        **_demographics(rng),
    )
    genres = np.array(catalog.genre_ids)
    n_preferred, n_disliked = int(rng.integers(2, 5)), int(rng.integers(1, 3))
    picked = [int(g) for g in rng.choice(genres, size=n_preferred + n_disliked, replace=False)]
    preferred, disliked = picked[:n_preferred], picked[n_preferred:]
    disliked_set = set(disliked)
    liked_pool = np.unique(np.concatenate([catalog.genre_tracks[g] for g in preferred]))
    liked_pool = np.array(
        [i for i in liked_pool if not catalog.track_genres[i] & disliked_set], dtype=np.int64
    )
    other_pool = np.setdiff1d(np.arange(len(catalog.track_ids)), liked_pool)

    # History: mostly the preferred genres, a few discoveries from elsewhere.
    size = int(rng.integers(HISTORY_SIZE[0], HISTORY_SIZE[1] + 1))
    from_liked = min(len(liked_pool), round(size * rng.uniform(0.75, 0.95)))
    history = list(
        rng.choice(liked_pool, size=from_liked, replace=False, p=catalog.weights(liked_pool))
    )
    candidates = np.array(
        [i for i in other_pool if not catalog.track_genres[i] & disliked_set], dtype=np.int64
    )
    extra = rng.choice(
        candidates, size=size - from_liked, replace=False, p=catalog.weights(candidates)
    )
    history.extend(int(i) for i in extra)

    # Events over the last 60 days: each draw is a track heard once, then its outcome.
    n_events = int(rng.integers(EVENTS_PER_LISTENER[0], EVENTS_PER_LISTENER[1] + 1))
    source = rng.random(n_events)
    liked_draws = rng.choice(liked_pool, size=n_events, p=catalog.weights(liked_pool))
    history_draws = rng.choice(np.array(history), size=n_events)
    other_draws = rng.choice(other_pool, size=n_events, p=catalog.weights(other_pool))
    offsets = np.sort(rng.uniform(0, DAYS_BACK * 86_400, size=n_events))[::-1]
    history_set = set(history)
    events: list[Interaction] = []

    def event(index: int, kind: str, at: dt.datetime, listened: int | None) -> None:
        events.append(
            Interaction(
                user=user,
                track_id=int(catalog.track_ids[index]),
                kind=kind,
                occurred_at=at,
                recorded_at=at,
                listened_ms=listened,
                mood=user.mood if rng.random() < 0.6 else str(rng.choice(["", *Mood.values])),
                activity=user.activity
                if rng.random() < 0.6
                else str(rng.choice(["", *Activity.values])),
            )
        )

    for n in range(n_events):
        if source[n] < 0.65:
            index = int(liked_draws[n])
        elif source[n] < 0.85:
            index = int(history_draws[n])
        else:
            index = int(other_draws[n])
        at = now - dt.timedelta(seconds=float(offsets[n]))
        duration = int(catalog.duration_ms[index])
        genres_of = catalog.track_genres[index]
        familiar = index in history_set or bool(genres_of & set(preferred))
        hated = bool(genres_of & disliked_set)
        skip_p = 0.75 if hated else (0.12 if familiar else 0.4)
        if rng.random() < skip_p:
            event(index, Interaction.Kind.SKIP, at, int(min(duration, rng.uniform(3_000, 40_000))))
            if hated and rng.random() < 0.35:
                event(index, Interaction.Kind.DISLIKE, at + dt.timedelta(seconds=1), None)
            continue
        event(index, Interaction.Kind.PLAY, at, int(duration * rng.uniform(0.7, 1.0)))
        roll = rng.random()
        later = at + dt.timedelta(seconds=duration / 1000)
        if roll < (0.15 if familiar else 0.05):
            event(index, Interaction.Kind.LIKE, later, None)
        elif roll > 0.97:
            event(index, Interaction.Kind.ADD_TO_PLAYLIST, later, None)
    return _Listener(
        user=user,
        preferred=preferred,
        disliked=disliked,
        history=[int(catalog.track_ids[i]) for i in history],
        events=events,
    )


def _store(listeners: Sequence[_Listener], summary: DemoSeedSummary) -> None:
    User.objects.bulk_create([listener.user for listener in listeners])
    GenrePreference.objects.bulk_create(
        [
            GenrePreference(user=item.user, genre_id=genre_id, kind=kind)
            for item in listeners
            for kind, genres in (
                (GenrePreference.Kind.PREFERRED, item.preferred),
                (GenrePreference.Kind.DISLIKED, item.disliked),
            )
            for genre_id in genres
        ]
    )
    for item in listeners:
        change = history_entries_add(user=item.user, track_ids=item.history)
        summary.history_entries += change.count
    events = [event for item in listeners for event in item.events]
    for event in events:
        event.user_id = event.user.pk  # the users had no pk when the events were built
    Interaction.objects.bulk_create(events, batch_size=5_000)
    summary.interactions += len(events)
    summary.opinions += opinions_from_interactions(events)


def demo_listeners_seed(
    *,
    count: int,
    seed: int = DEMO_SEED,
    signin_password: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoSeedSummary:
    """Create the demo listeners ``demo-0001`` … ``demo-{count}`` that do not exist yet, with
    their profiles, histories and interactions, and the ``demo`` sign-in account (with
    ``signin_password``, else an unusable one); existing ones are left alone.
    ``progress(n)`` is called as listeners are done."""
    if not 0 <= count <= MAX_DEMO_LISTENERS:
        raise ValueError(f"--listeners must be from 0 to {MAX_DEMO_LISTENERS}.")
    wanted = {DEMO_SIGNIN_USERNAME: 0} | {demo_username(n): n for n in range(1, count + 1)}
    existing = set(
        User.objects.filter(username__in=list(wanted)).values_list("username", flat=True)
    )
    missing = [(name, number) for name, number in wanted.items() if name not in existing]
    summary = DemoSeedSummary(existing=len(existing))
    now = timezone.now()
    # Demo listeners of older seeds were left "not onboarded"; mark them (once) as well.
    demo_listeners().filter(onboarded_at__isnull=True).update(onboarded_at=now)
    if not missing:
        return summary
    catalog = _Catalog.load()
    for start in range(0, len(missing), CHUNK):
        chunk = missing[start : start + CHUNK]
        listeners = [
            _generate(catalog=catalog, username=name, number=number, seed=seed, now=now)
            for name, number in chunk
        ]
        for item in listeners:
            if item.user.username == DEMO_SIGNIN_USERNAME and signin_password:
                item.user.set_password(signin_password)
        with transaction.atomic():
            _store(listeners, summary)
        summary.created += len(listeners)
        summary.created_usernames.extend(name for name, _ in chunk)
        if progress:
            progress(len(listeners))
    return summary
