"""Settings for musicrec, read from the environment (django-environ).

Development (``make run``) and tests (``make test``) need no variables: the launcher sets
``DEBUG=1``, the services' URLs and ``MUSICREC_INSTANCE`` for its children. With
``MUSICREC_INSTANCE`` set and ``DATABASE_URL`` / ``REDIS_URL`` unset, the URLs of the embedded
services are read from ``var/<instance>/services.env``, which the launcher writes (never
``DEBUG`` or ``SECRET_KEY``: those come from the environment only). Production sets
``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``DEBUG=0``; there is no
insecure default in that mode.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from musicrec import embedded

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# The embedded services' URLs, only when the launcher says so (MUSICREC_INSTANCE, which it sets
# for its children; by hand for manage.py in another terminal, see README). Only DATABASE_URL and
# REDIS_URL are taken from that file, never DEBUG or SECRET_KEY; the process environment wins.
for _key, _value in embedded.launcher_service_urls(env.ENVIRON).items():
    env.ENVIRON.setdefault(_key, _value)

DEBUG = env.bool("DEBUG", default=False)

# --------------------------------------------------------------------------- security
_DEV_SECRET_KEY = "django-insecure-development-only-key-never-used-with-debug-off"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. It is required when DEBUG=0 (production); "
        "set DEBUG=1 for local development (with the embedded services also "
        "MUSICREC_INSTANCE=dev, or use `make manage ARGS=...`)."
    )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /health/ is probed by load balancers over plain HTTP. /metrics is not exempt: its bearer token
# must never travel in clear.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]

# --------------------------------------------------------------------------- applications
DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_countries",
    "import_export",
    "django_htmx",
    "django_celery_beat",
    "channels",
]
LOCAL_APPS = [
    "musicrec",
    "accounts",
    "catalog",
    "history",
    "recommendations",
    "playlists",
    "insights",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "musicrec.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.ListenerTimeZoneMiddleware",
    # After authentication and messages: the 400 page it may render shows the usual header.
    "musicrec.middleware.RejectNulQueryMiddleware",
    "musicrec.pages.ApplicationErrorMiddleware",
]

ROOT_URLCONF = "musicrec.urls"
WSGI_APPLICATION = "musicrec.wsgi.application"
ASGI_APPLICATION = "musicrec.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --------------------------------------------------------------------------- data stores
if "DATABASE_URL" not in env.ENVIRON:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set and no embedded services are running. Start them with "
        "`make services` (or `make run`), or set DATABASE_URL."
    )
DATABASES = {"default": env.db("DATABASE_URL")}
# A connection pool per process (psycopg_pool). Under ASGI, Django runs each request's sync code
# in a thread of its own, so persistent per-thread connections (CONN_MAX_AGE > 0) pile up until
# PostgreSQL refuses new clients; the pool hands connections back at the end of each request.
# DB_POOL=0 turns it off (then CONN_MAX_AGE applies): for Celery workers and beat (Celery closes
# the pool around every task in a prefork child; the launcher sets it) and behind PgBouncer.
if env.bool("DB_POOL", default=True):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# With the pool: one round trip on checkout, so a connection broken by a database restart is
# replaced instead of failing a request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")


def _redis_db(url: str, db: int) -> str:
    """The same Redis server with another logical database (cache, channels, broker apart)."""
    base, _, last = url.rpartition("/")
    return f"{base}/{db}" if base and last.isdigit() else f"{url.rstrip('/')}/{db}"


CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": env.str("CACHE_URL", default=_redis_db(REDIS_URL, 1)),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            # A Redis outage degrades to "uncached" instead of failing requests.
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
        "KEY_PREFIX": "musicrec",
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# Sessions live in the database so that a Redis outage cannot sign anyone out.
# (accounts.sessions: the database backend plus a user column, see there.)
SESSION_ENGINE = "accounts.sessions"

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": env.str("CHANNELS_REDIS_URL", default=_redis_db(REDIS_URL, 2)),
                    # A Redis that does not answer must not hold requests (broadcasts also
                    # have their own 2 s limit, musicrec.realtime). The read time-out stays
                    # above the layer's 5 s blocking receive.
                    "socket_connect_timeout": 1,
                    "socket_timeout": 10,
                }
            ]
        },
    }
}

# --------------------------------------------------------------------------- recommender
# Every setting of the recommender, in one place (docs/recommendations.md).
# the signed-in home page's list length, also the length of a pushed live update (below)
_HOME_RESULTS = 10

RECOMMENDER: dict[str, Any] = {
    # ---- the engine's parameters, read as TrainingParams(**RECOMMENDER["training"]),
    # PredictorParams(**RECOMMENDER["predictors"]) and EnsembleParams(weights=WeightParams(**…),
    # calibration=Calibration(**…), **rest) (recommendations.selectors.params). Every tuned
    # value was chosen on the validation split of mpd_subset by `manage.py evaluate_recommender`
    # (docs/evaluation.md: grids, figures, and the test figures reported once).
    "training": {
        # metadata rows under the listeners, weight per cell relative to one play (grid 2/2.5/0.5,
        # 2/2.5/0, 3/3/0.5; genre 0.5 best by a hair)
        "metadata_weights": {"artist": 2.0, "album": 2.5, "genre": 0.5},
        "ease_l2": 100.0,  # EASE λ on the metadata matrix (grid 50 / 100)
        # dense Gram matrix, tracks² memory and cubic time (5k: 5 s / 0.55 GB, 8k: 15 s /
        # 1.1 GB, 12k: 32 s / 2.4 GB peak at catalog scale); mpd_subset has 7.8k played tracks
        "ease_max_tracks": 8_000,
        "ease_neighbours": 200,  # sparse B kept per track (earlier mpd run: −1 % NDCG@10)
        "als_factors": 128,  # = COLLABORATIVE_DIMENSIONS; 256 gained 0.5 % on validation
        "als_regularization": 100.0,  # grid (30, α 20) / (100, α 40): strong reg wins (issue #11)
        "als_alpha": 40.0,
        # 15, not 30: ALS's time is linear in iterations (110 s at 30, 56 s at 15 at catalog
        # scale) and on mpd_subset's validation split 10, 15, 20 and 30 iterations give the same
        # NDCG@10 (0.1442–0.1449, 128 factors + artist rows): the training-time target decides
        "als_iterations": 15,
        "ease_weight": 0.5,  # z-score blend of EASE and ALS (grid 0.5/0.5, 0.65/0.35, 0.35/0.65)
        "als_weight": 0.5,
        "pool": 200,
    },
    "predictors": {
        # seeds: audio features add little to accuracy here (issue #11); not tuned
        "content_history_weight": 1.0,
        "content_like_weight": 1.0,
        "content_artist_weight": 0.15,
        # the smallest cohort the demographic predictor trusts (same age band, country, gender,
        # occupation; else it backs off to a coarser cohort); the cohort selector also leaves
        # smaller cohorts out of what web processes load. No demographics in the evaluation
        # data: the engine's seed (below it a cohort's favourites are a few people's taste)
        "min_cohort_size": env.int("RECOMMENDER_DEMOGRAPHIC_MIN_COHORT_SIZE", default=20),
        # What the score of a track nobody had played when the models were trained (play count
        # 0: metadata-only collaborative vector, or added since) is multiplied by, per source
        # (engine.predictors.unplayed_damping; in (0, 1], 1 = no damping; a catalog nobody has
        # played is never damped). Chosen by `manage.py evaluate_recommender --tune-unplayed` on
        # mpd_subset's validation split with the whole catalog (89,740 tracks) as candidates,
        # 800 listeners, NDCG@10 (docs/evaluation.md "Unplayed tracks"): content 1.0 → 0.1407,
        # 0.7 → 0.1433, 0.5 → 0.1433 (0.7: the same gain for less of the cold items' recall);
        # collaborative 1.0 → 0.1407, 0.9 → 0.1405, 0.5–0.8 → 0.1401–0.1403 (no gain, and
        # cold items' recall fell to 0): 1.0.
        "collaborative_unplayed": 1.0,
        "content_unplayed": 0.7,
    },
    "ensemble": {
        # the weight function of what is known (ensemble.source_weights), tuned on validation
        # full listeners + the same cut to 1/3/5 tracks; demographic not tunable here (no data)
        "weights": {
            "history_scale": 1.0,
            "collaborative": 1.0,
            "content": 0.05,
            "demographic": 0.8,
            "popularity": 0.1,
            "popularity_floor": 0.05,
        },
        "pool": 100,
        "context_strength": 0.3,  # no context in the listens: a seed
        "max_run": 3,  # issue #11
        # at most artist_limit tracks of one artist in any artist_window consecutive places of a
        # list (engine.ranking.diversify; None: no limit), unless the listener's own tracks
        # give the artist more: ceil(window * their tracks of it / (their tracks + artist_prior))
        # (engine.ranking.artist_allowance; artist_prior None: the limit for every artist). The
        # run rule alone let one artist take 5-8 of a new listener's top 10 (A A A B A A …).
        # A product choice measured on the evaluation, not tuned on it (docs/evaluation.md
        # "Artist limit": 2 / 10 / prior 5 cost 0.7 % of test NDCG@10, ~5 % of cold start)
        "artist_limit": 2,
        "artist_window": 10,
        "artist_prior": 5.0,
        "relevance": 0.97,  # MMR (grid 0.8 / 0.9 / 0.97)
        # confidence = hit rate: isotonic fit of served final scores against "the listener
        # played it" (held out) on validation, 20 equal-count bins (tuning.fit_calibration)
        "calibration": {
            "knots": [
                0.5191,
                0.5492,
                0.5667,
                0.5819,
                0.6113,
                0.6425,
                0.6595,
                0.6860,
                0.7146,
                0.7355,
                0.7692,
                0.8045,
                0.8310,
                0.8585,
                0.8890,
                0.9279,
            ],
            "values": [
                0.0045,
                0.0055,
                0.0090,
                0.0110,
                0.0132,
                0.0135,
                0.0140,
                0.0187,
                0.0220,
                0.0230,
                0.0235,
                0.0285,
                0.0385,
                0.0425,
                0.0560,
                0.0830,
            ],
        },
    },
    # The quick holdout each training measures on the site's own data (model figures in the
    # admin): on/off, the per-listener share held out, the fewest listeners with something held
    # out to report anything, the cut-off k and the split's seed. It costs one more fit (the
    # training time roughly doubles): turn it off on a large site if that matters.
    # blend_max_tracks: on a larger catalog only EASE is fitted again (an ALS refit took 195 s
    # at 90k tracks, EASE seconds: docs/recommendations.md "Measured"), and the figures say so.
    "figures": {
        "enabled": True,
        "holdout": 0.2,
        "min_listeners": 20,
        "k": 10,
        "seed": 0,
        "blend_max_tracks": 20_000,
    },
    # `manage.py train_embeddings --if-stale` (and `make run`) trains only when there is no
    # active model or its data is older than this (the nightly schedule's period).
    "retrain_after_hours": 24,
    # How often the popularity views are refreshed (minutes; the beat entry
    # recommendations.refresh_popularity). A refresh takes seconds at 100k tracks and 1M events
    # (docs/recommendations.md); trending moves over days (14-day half-life), so 15 minutes
    # keeps "popular right now" current at a small cost. What the views compute (window,
    # half-lives, weights, top N) is fixed by their SQL in recommendations/migrations/0002 and
    # is not a setting: changing it is a migration.
    "popularity_refresh_minutes": env.int("RECOMMENDER_POPULARITY_REFRESH_MINUTES", default=15),
    "vectors": {
        # hnsw.ef_search of nearest-neighbour queries (SET LOCAL per query; pgvector's default
        # 40 caps a LIMIT 50 at 40 rows). 100 gave recall@50 ≥ 0.99 on the demo catalog's
        # content vectors and on a small ALS model in tests/recommendations/test_vectors.py;
        # iterative scans (relaxed order) fill a LIMIT when filters drop rows.
        # At catalog scale listener → track queries on the ALS vectors need more: recall@50
        # 0.954–0.967 at 100, 0.972–0.973 at 200 for 1–2 ms more with demo listeners
        # (docs/recommendations.md "Measured"; 0.988 at 100 with the mpd listeners,
        # docs/benchmarks.md): 200.
        "hnsw_ef_search": env.int("RECOMMENDER_HNSW_EF_SEARCH", default=200),
        # how long a process reuses the catalog's audio-feature statistics when it embeds a
        # few tracks (an admin save): one more track moves them by nothing that matters, and a
        # bulk import or the daily embed_tracks computes them fresh
        "content_statistics_cache_s": 300,
        # the admin action "Recompute embeddings" runs at once up to this many tracks and
        # enqueues recommendations.embed_tracks for a larger selection (~1 s per 1,000 here)
        "admin_inline_tracks": 1_000,
        # a catalog import that created or changed at least this many tracks also enqueues
        # recommendations.embed_tracks for the whole catalog after it commits (its statistics
        # moved: the vectors of the tracks it did not touch follow them)
        "import_reembed_from": 10_000,
        # from this many changed vectors in one write on, the table's HNSW index is dropped and
        # built again instead of inserted into row by row (90k content vectors: 210 s inserted,
        # much less rebuilt: docs/benchmarks.md); readers of that table wait for the commit
        "index_rebuild_from": 10_000,
        # Each model version's own HNSW indexes (recommendations.services.vector_indexes) are
        # built once after training writes its vectors: maintenance_work_mem for that build, so
        # the graph is built in memory (90k × 128-d vectors ≈ 50 MB + the graph), and the
        # parallel workers besides the leader (pgvector ≥ 0.6 builds HNSW in parallel; 2 cores
        # here: measured in docs/recommendations.md "Measured")
        "index_build_memory": "512MB",
        "index_build_workers": 1,
        # ef_construction of those indexes: at 64 (pgvector's default) HNSW found only 0.88 of
        # the exact top 50 for listener vectors at catalog scale (0.94 even at ef_search 400);
        # 128 gives 0.967 at ef_search 100, for ~15 s more build (docs/recommendations.md)
        "index_ef_construction": 128,
    },
    # The cache of served lists (recommendations.services.cache; Redis through Django's cache).
    "cache": {
        # how long a cached list lives: any change of the listener's taste, a training and a view
        # refresh make the next request fresh anyway (version keys); this bounds what nothing
        # invalidates (a skip leaving the 24-hour memory, a change made while Redis was down)
        "timeout_seconds": env.int("RECOMMENDER_CACHE_TIMEOUT", default=3600),
        # how long a listener's version key lives unused (a new one is made when it is gone;
        # one small key per listener)
        "listener_version_timeout_seconds": 30 * 86400,
        # after a training, recommendations.precompute_lists computes the default list (n=5,
        # stored context) of the listeners active in the last this many days (a sign-in, a
        # recorded event or a history change), most recent first, at most this many (each ~20–80
        # ms of a worker on the full catalog: 5,000 are a few minutes)
        "precompute_active_days": env.int("RECOMMENDER_PRECOMPUTE_ACTIVE_DAYS", default=7),
        "precompute_max_listeners": env.int("RECOMMENDER_PRECOMPUTE_MAX_LISTENERS", default=5000),
    },
    # Served lists (recommendations.Impression) are pruned daily (recommendations.prune_impressions)
    # after this many days: by default as long as the interactions that answer them are kept
    # (INTERACTION_RETENTION_DAYS), so a kept event can still be joined to its list.
    "impressions": {
        "retention_days": env.int(
            "RECOMMENDER_IMPRESSION_RETENTION_DAYS",
            default=env.int("INTERACTION_RETENTION_DAYS", default=90),
        ),
        # An interaction that names no impression answers a served list when it happened this
        # long after it (recommendations.selectors.outcomes: click-through, like, skip rates).
        "attribution_minutes": env.int("RECOMMENDER_ATTRIBUTION_MINUTES", default=30),
    },
    # ---- ranking experiments (issue #14): recommendations.selectors.experiment_reports
    "experiments": {
        # Below these, per variant, a report says "not enough data yet" instead of a verdict: a
        # difference read off a few lists is mostly noise, and peeking early is how false wins
        # are made. 100 served lists and 20 distinct listeners per variant (or, interleaving,
        # per experiment) are the floor the issue suggests; the simulation (docs/evaluation.md,
        # "Experiments: split test vs interleaving") shows real differences need far more.
        "min_lists": env.int("RECOMMENDER_EXPERIMENT_MIN_LISTS", default=100),
        "min_listeners": env.int("RECOMMENDER_EXPERIMENT_MIN_LISTENERS", default=20),
        # Resamples of the bootstrap over listeners behind a split test's differences (1,000:
        # the 2.5th/97.5th percentiles are stable to about ±0.1 point of a rate; the report is
        # cached, report_cache_seconds).
        "bootstrap_resamples": env.int("RECOMMENDER_EXPERIMENT_BOOTSTRAP", default=1000),
        # A report (page and API) is computed at most once per this many seconds.
        "report_cache_seconds": 60,
        # how long the one cached lookup of the running experiments (a Redis key, also cached
        # when empty) is kept: the experiment services replace it on every change, so this
        # only bounds how late a starts_at/ends_at passing by itself is seen — start and end
        # times are also checked on every read, so it only matters for an experiment created
        # or changed outside the services. A minute: cheap (one query a minute per site), and
        # no one schedules experiments to the second.
        "lookup_timeout_seconds": env.int("RECOMMENDER_EXPERIMENT_LOOKUP_SECONDS", default=60),
    },
    # ---- live updates over /ws/recommendations/ (recommendations.services.live, issue #12)
    "live": {
        # "two skips within 60 seconds" push a new list (the figures): how many skips
        # within how many seconds. The count starts again after each burst, so a third skip
        # right after does not push again (a fourth does).
        "skip_burst": 2,
        "skip_window_s": 60,
        # a client's {"type": "refresh"}: at most one per listener per this many seconds (each
        # computes a list in the worker and records an impression; the issue asks for a limit,
        # 5 s is what a person pressing "refresh" needs)
        "refresh_interval_s": 5,
        # how many results a pushed list has when nothing asked for another n (a refresh may
        # ask for 1–100): the home page's length ("pages" below), so the page shows the very
        # list that was pushed (and recorded) instead of serving itself another one
        "results": _HOME_RESULTS,
        # presence: each open connection refreshes its entry this often; an entry not refreshed
        # for three heartbeats belongs to a process that died without closing and is ignored
        "heartbeat_s": 60,
        # a finished training pushes to every connected listener, in worker tasks of this many
        # listeners each (a list costs tens of ms: a batch is seconds of one worker, and several
        # workers share a large fan-out)
        "fan_out_batch": 50,
    },
    "pages": {
        # the signed-in home page (recommendations.views): how many recommendations it shows
        # (the API's default is 5; a page has room for more and a dislike still leaves a list)
        # and how many trending tracks beside them; chosen for a phone screen, not measured
        "home_results": _HOME_RESULTS,
        "home_trending": 10,
        # similar tracks on a track page (recommendations/templatetags)
        "similar_tracks": 6,
    },
    # ---- a listener's insights (/insights/, GET /api/v1/me/insights/: insights.selectors.listener,
    # docs/insights.md). Sizes chosen for a readable page, not measured.
    "insights": {
        # how far back the figures look, in the listener's calendar days: the interactions are
        # kept 90 days (INTERACTION_RETENTION_DAYS), so a longer window would show pruned gaps
        "window_days": 90,
        # the "how your genres changed" periods (90 / 30: three bars)
        "period_days": 30,
        # top artists and top tracks: how many
        "top": 10,
        # genres named in the genres chart (the rest is "Other")
        "genres_shown": 8,
        # the feature profile: a history entry and a liked track each weigh this many plays
        # (what the listener chose counts, what they play counts most when they play a lot)
        "history_weight": 2.0,
        "liked_weight": 2.0,
        # the average listener's profile (every listener's, in SQL) is cached this long: the
        # issue's hour; it moves slowly and costs a scan of the window's plays
        "platform_cache_seconds": 3600,
        # tracks listed under "what your recommendations brought" (the count covers them all)
        "brought_listed": 20,
    },
    # ---- the staff dashboard (/staff/insights/, insights.selectors.dashboard,
    # insights.services.dashboard; docs/insights.md)
    "dashboard": {
        # the heavy figures (activity, popularity, cohorts, imports, served lists: 12 grouped
        # queries, ~10 s at 10k listeners and 1M interactions, scripts/bench_dashboard.py) are
        # computed by the Celery task insights.refresh_dashboard every this many minutes (beat,
        # CELERY_BEAT_SCHEDULE below), never in a request; the "every 5 minutes"
        "refresh_minutes": env.int("RECOMMENDER_DASHBOARD_REFRESH_MINUTES", default=5),
        # stored figures are dropped after this many seconds: with beat or the workers stopped
        # for a day the page says "being computed" rather than show day-old figures (it shows
        # their age meanwhile); a day, a judgement, not measured
        "keep_seconds": env.int("RECOMMENDER_DASHBOARD_KEEP_SECONDS", default=24 * 3600),
        # the computation's lock (SET NX) expires after this many seconds: well above a
        # computation (~10 s measured) so it never expires under a running one, short enough
        # that a worker killed while holding it blocks the next runs for 10 minutes at most
        "lock_seconds": env.int("RECOMMENDER_DASHBOARD_LOCK_SECONDS", default=600),
        # a page view or "Refresh now" enqueues the task at most once per this many seconds
        # (cleared when the task ends): a burst of views or clicks sends one task; two minutes
        # covers a queue wait plus the computation
        "requested_seconds": env.int("RECOMMENDER_DASHBOARD_REQUESTED_SECONDS", default=120),
        # each web process adds its latency histogram's counts to Redis at most this often
        # (musicrec.metrics.LatencyBatch): one pipelined batch per process per interval
        # instead of a Redis call per request; the dashboard is at most this much behind
        "latency_flush_seconds": env.int("RECOMMENDER_LATENCY_FLUSH_SECONDS", default=10),
        # popular tracks and genres: how many, and over how many days (the issue's "over
        # time": 30 days by day would be too spiky for a top 5; 90 days by week reads well)
        "top_n": 5,
        "popularity_days": 90,
        # activity, interactions by kind and imports per day: the last this many days
        "activity_days": 30,
        # the retention table: listeners who signed up in each of the last this many weeks
        "cohort_weeks": 10,
        # served lists' rates (by source and position): impressions of the last this many days
        "served_days": 7,
    },
    # ---- the web process's serving state (recommendations.selectors.serving)
    "serving": {
        # build the serving state (catalog, model, predictors: ~7 s on the full catalog,
        # docs/benchmarks.md "Serving recommendations over HTTP") in the background as soon as
        # the ASGI server starts the application (its lifespan start-up, musicrec.asgi), so the
        # first listener does not wait for it. On by default (`make run`, a deployment's
        # uvicorn); `musicrec.stack test` turns it off (RECOMMENDER_WARM_UP=0); a failure is
        # logged and the first request builds the state as before.
        "warm_up": env.bool("RECOMMENDER_WARM_UP", default=True),
    },
    # ---- ranking experiments (recommendations.selectors.experiments, docs/experiments.md)
    # Generated playlists (recommendations.selectors.sequences; docs/recommendations.md
    # "Generated playlists"). Each block overrides fields of the engine's dataclass of the same
    # kind (recommendations.engine.sequences: RadioParams, MixParams, PathParams); an empty one
    # keeps the engine's defaults, which are seeds, not tuned (no data says what listeners think
    # of a generated sequence). E.g. "radio": {"seed_decay": 0.9} drifts more slowly.
    "playlists": {
        # the radio's nearness: this share of the collaborative (ALS) cosine, the rest content,
        # for tracks with an ALS vector (half and half: neither source is known to be better
        # at "sounds and feels alike"; content alone before the first training)
        "collaborative_weight": 0.5,
        "radio": {},  # seed pull and decay, memory, taste weight, pools, draw (RadioParams)
        "mix": {},  # fit / taste / popularity weights, jitter, MMR relevance (MixParams)
        "path": {},  # target / previous / taste weights, monotone, tube, draw (PathParams)
    },
}

# --------------------------------------------------------------------------- celery
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_redis_db(REDIS_URL, 0))
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Synced into the database by django-celery-beat's scheduler (editable in the admin).
CELERY_BEAT_SCHEDULE = {
    "history.resume_listen_imports": {
        "task": "history.resume_listen_imports",
        "schedule": timedelta(minutes=10),
    },
    "catalog.refresh_search_terms": {
        "task": "catalog.refresh_search_terms",
        "schedule": timedelta(hours=1),
    },
    "history.prune_interactions": {
        "task": "history.prune_interactions",
        "schedule": timedelta(days=1),
    },
    # ---- recommendations: training (branch train)
    # Nightly at 03:30 UTC, after the day's listening; a run while one is going is skipped.
    "recommendations.train_embeddings": {
        "task": "recommendations.train_embeddings",
        "schedule": crontab(hour=3, minute=30),
    },
    # ---- recommendations: embeddings (branch content)
    # every track's content vector again (follows the drift of the catalog's feature statistics;
    # catches a track whose save-time embedding failed), away from the training's hour
    "recommendations.embed_tracks": {
        "task": "recommendations.embed_tracks",
        "schedule": crontab(hour=2, minute=45),
    },
    # ---- recommendations: popularity views (branch views)
    "recommendations.refresh_popularity": {
        "task": "recommendations.refresh_popularity",
        "schedule": timedelta(minutes=RECOMMENDER["popularity_refresh_minutes"]),
    },
    # ---- recommendations: served lists (branch api)
    # impressions older than RECOMMENDER["impressions"]["retention_days"], in batches
    "recommendations.prune_impressions": {
        "task": "recommendations.prune_impressions",
        "schedule": crontab(hour=4, minute=15),
    },
    # ---- insights: the staff dashboard's heavy figures (branch dashtask); a run while one is
    # computing is skipped (the lock); the page shows the stored figures and their age
    "insights.refresh_dashboard": {
        "task": "insights.refresh_dashboard",
        "schedule": timedelta(minutes=RECOMMENDER["dashboard"]["refresh_minutes"]),
    },
}

# --------------------------------------------------------------------------- history
# Interaction events recorded longer ago than this are pruned daily (likes/dislikes are kept).
INTERACTION_RETENTION_DAYS = env.int("INTERACTION_RETENTION_DAYS", default=90)
# Largest listening-data export a listener may upload (Last.fm, Spotify, ListenBrainz).
LISTEN_IMPORT_MAX_BYTES = env.int("LISTEN_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
# What the worker reads of one export (streamed): at most this many entries (rows, JSON entries)
# and this many bytes per entry; a larger file or entry fails the import with a message.
LISTEN_IMPORT_MAX_ENTRIES = env.int("LISTEN_IMPORT_MAX_ENTRIES", default=1_000_000)
LISTEN_IMPORT_MAX_ENTRY_BYTES = env.int("LISTEN_IMPORT_MAX_ENTRY_BYTES", default=64 * 1024)
# Imported plays a listener keeps at most: an import past it stores its newest listens up to the
# limit and reports the rest (ListenImport.over_limit).
LISTEN_IMPORT_MAX_PLAYS_PER_LISTENER = env.int(
    "LISTEN_IMPORT_MAX_PLAYS_PER_LISTENER", default=200_000
)
# history.resume_listen_imports sends again an import pending this long (its task was lost) or
# processing this long (its worker died; processing a 50 MB export takes about a minute).
LISTEN_IMPORT_PENDING_AFTER = env.int("LISTEN_IMPORT_PENDING_AFTER", default=10 * 60)
LISTEN_IMPORT_STALE_AFTER = env.int("LISTEN_IMPORT_STALE_AFTER", default=30 * 60)
# … at most this many times in all; then it is marked failed.
LISTEN_IMPORT_MAX_ATTEMPTS = env.int("LISTEN_IMPORT_MAX_ATTEMPTS", default=3)


# --------------------------------------------------------------------------- auth
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrEmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "catalog:home"
LOGOUT_REDIRECT_URL = "catalog:home"

# --------------------------------------------------------------------------- i18n / static
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Without collectstatic (development, tests) WhiteNoise serves straight from the finders.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)
WHITENOISE_AUTOREFRESH = DEBUG

# --------------------------------------------------------------------------- e-mail
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="musicrec <noreply@localhost>")

# --------------------------------------------------------------------------- API
REST_FRAMEWORK = {
    # JWT first, so that an unauthenticated API call is a 401 (with WWW-Authenticate), not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "musicrec.api.pagination.PageNumberPagination",
    # DRF's defaults, with a JSON body nested too deeply a 400 (musicrec.api.parsers)
    "DEFAULT_PARSER_CLASSES": [
        "musicrec.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "musicrec.api.filters.StrictOrderingFilter",
    ],
    # drf-spectacular's, plus the answers every view of a kind gives (musicrec/api/schema.py)
    "DEFAULT_SCHEMA_CLASS": "musicrec.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "musicrec.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/minute"),
        "user": env.str("THROTTLE_USER", default="600/minute"),
        # The limits below fail closed (musicrec/throttling.py): with Redis down they refuse.
        # Sign-up, sign-in (API, pages, admin), token refresh, logout and password reset, per
        # client address …
        "auth": env.str("THROTTLE_AUTH", default="20/minute"),
        # … and per account aimed at (the username or e-mail typed; sign-up: those registered)
        "auth_account": env.str("THROTTLE_AUTH_ACCOUNT", default="10/15m"),
        # password-reset mails per e-mail address
        "password_reset": env.str("THROTTLE_PASSWORD_RESET", default="3/hour"),
        # listening-data uploads per listener
        "imports": env.str("THROTTLE_IMPORTS", default="30/hour"),
        # playlist file uploads (M3U, JSPF, CSV; matched in the request) per listener
        "playlist_imports": env.str("THROTTLE_PLAYLIST_IMPORTS", default="60/hour"),
        # data exports (the whole listening log, streamed) per listener
        "exports": env.str("THROTTLE_EXPORTS", default="20/hour"),
    },
    # How many proxies of our own append to X-Forwarded-For. 0: the header is the client's to
    # write and is ignored; throttles count the peer address (uvicorn already puts the client's
    # address there for proxies in its FORWARDED_ALLOW_IPS).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    # Tokens carry a hash of the password hash; once the password changes (page, reset, admin)
    # every access token issued before is refused, and refreshing an old refresh token too
    # (accounts/api/serializers.py).
    "CHECK_REVOKE_TOKEN": True,
    "REVOKE_TOKEN_CLAIM": "hash_password",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "musicrec API",
    "DESCRIPTION": "Music catalog, listening history and explained recommendations.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Enums used under more than one field name, or under a name other enums use ("kind"):
    # one named component each, so generated clients get one stable type. KindEnum keeps the
    # name the interaction kinds always had, now that reasons have a "kind" too.
    "ENUM_NAME_OVERRIDES": {
        "KindEnum": "history.models.InteractionKind",
        "SimilarSourceEnum": "recommendations.api.catalog_serializers.SIMILAR_SOURCES",
        "SimilarReasonKindEnum": "recommendations.api.catalog_serializers.SIMILAR_REASON_KINDS",
        # the experiment report's status and verdicts (GET /api/v1/experiments/{id}/report/);
        # the imports' status keeps the name it had before a second "status" enum existed
        "StatusEnum": "history.models.ImportStatus",
        "ExperimentStatusEnum": "recommendations.api.experiments.STATUSES",
        "ExperimentVerdictEnum": "recommendations.api.experiments.VERDICTS",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # OpenAPI links between operations (create → read → delete): musicrec/api/schema.py
        "musicrec.api.schema.links_into_responses",
        # the raw-schema components (FieldErrors)
        "musicrec.api.schema.add_shared_components",
    ],
}

# --------------------------------------------------------------------------- import/export
IMPORT_EXPORT_TMP_STORAGE_CLASS = "catalog.tmp_storage.DatabaseTempStorage"
IMPORT_EXPORT_SKIP_ADMIN_LOG = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
CATALOG_UPLOAD_MAX_BYTES = env.int("CATALOG_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
# Request bodies (musicrec/uploads.py RequestBodyLimit, before Django reads them): at most
# REQUEST_MAX_BYTES, except on the upload paths below for a signed-in listener (staff for the
# admin's catalog import): the form's file limit plus 1 MB for the multipart envelope. A body
# over its limit is a 413, unread; a file over its form's own limit is refused by the form.
_MULTIPART_ENVELOPE = 1024 * 1024
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=DATA_UPLOAD_MAX_MEMORY_SIZE)
UPLOAD_PATHS = {
    "/api/v1/imports/": (LISTEN_IMPORT_MAX_BYTES + _MULTIPART_ENVELOPE, "listener"),
    "/history/imports/upload/": (LISTEN_IMPORT_MAX_BYTES + _MULTIPART_ENVELOPE, "listener"),
    "/admin/catalog/track/import/": (CATALOG_UPLOAD_MAX_BYTES + _MULTIPART_ENVELOPE, "staff"),
}
# Uploads are held in memory only (musicrec/uploads.py): every body any path accepts fits.
FILE_UPLOAD_MAX_MEMORY_SIZE = max(
    REQUEST_MAX_BYTES, *(limit for limit, _who in UPLOAD_PATHS.values())
)
FILE_UPLOAD_HANDLERS = ["musicrec.uploads.BoundedMemoryUploadHandler"]
DATA_UPLOAD_MAX_NUMBER_FILES = 1  # every upload form takes one file: memory per request is bounded

# --------------------------------------------------------------------------- observability
# /metrics (musicrec/metrics.py): "Authorization: Bearer <token>" required when DEBUG=0.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")


# --------------------------------------------------------------------------- logging
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # LOG_LEVEL on the handler too: Django's own loggers ("django.request" …) set their level
    # themselves and reach this handler by propagation, past the root logger's level.
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "level": env.str("LOG_LEVEL", default="INFO"),
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django_redis": {"level": "WARNING"},
    },
}
