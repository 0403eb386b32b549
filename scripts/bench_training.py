"""Training at catalog scale: where the time and memory of ``train_embeddings`` go.

Two sub-commands:

``dump PATH`` (against a database, in the launcher's benchmark instance): read the training
snapshot (catalog memberships and every listener's rows) as ``train_embeddings`` does and save
it to ``PATH`` (.npz), with a summary of its size, so the engine's fits can be measured again
and again without the database::

    .venv/bin/python -m musicrec.stack bench -- bash -c '
        .venv/bin/python manage.py import_catalog ../shared/datasets/catalog/spotify_tracks.csv &&
        .venv/bin/python manage.py seed_demo --listeners 2000 &&
        .venv/bin/python scripts/bench_training.py dump /tmp/snapshot.npz'

``search [--queries 200] [--k 50]`` (against a database with an active model): HNSW through
the active version's partial index against an exact scan, with the plan of one query.

``fit PATH [--model ease|als|holdout] [--ease-max-tracks N] [--als-iterations N]
[--blas-threads N] [--metadata all|played]``: one fit of the engine on a dumped snapshot, its
seconds and the process's peak RSS (one fit per process, so the peak is that fit's).
``--metadata played`` keeps only the metadata rows of groups with a track someone played.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

KINDS = ("artist", "album", "genre")


def dump(path: str) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
    django.setup()
    import numpy as np

    from recommendations.selectors.catalog import engine_catalog
    from recommendations.selectors.training import listener_events

    started = time.perf_counter()
    catalog = engine_catalog()
    events = listener_events(engine_catalog=catalog)
    signed = events.matrix(keep_negative=True)
    positive = events.matrix(keep_negative=False)
    arrays = {
        "signed_data": signed.data,
        "signed_indices": signed.indices,
        "signed_indptr": signed.indptr,
        "positive_data": positive.data,
        "positive_indices": positive.indices,
        "positive_indptr": positive.indptr,
        "shape": np.array(signed.shape),
    }
    for kind in KINDS:
        member = catalog.memberships.get(kind)
        if member is not None:
            arrays[f"{kind}_track"] = member.track
            arrays[f"{kind}_group"] = member.group
            arrays[f"{kind}_n"] = np.array([member.n_groups])
    np.savez(path, **arrays)
    played = np.unique(positive.indices)
    print(
        f"read {time.perf_counter() - started:.1f} s: {signed.shape[0]} listeners × "
        f"{signed.shape[1]} tracks, {signed.nnz} cells ({positive.nnz} positive), "
        f"{len(played)} tracks played by someone; groups: "
        + ", ".join(
            f"{kind} {catalog.memberships[kind].n_groups}"
            for kind in KINDS
            if kind in catalog.memberships
        )
    )


def _load(path: str):  # type: ignore[no-untyped-def]
    import numpy as np
    import scipy.sparse as sp

    from recommendations.engine.training import Memberships

    data = np.load(path)
    shape = tuple(int(x) for x in data["shape"])
    signed = sp.csr_matrix(
        (data["signed_data"], data["signed_indices"], data["signed_indptr"]), shape=shape
    )
    positive = sp.csr_matrix(
        (data["positive_data"], data["positive_indices"], data["positive_indptr"]), shape=shape
    )
    memberships = {
        kind: Memberships(
            track=data[f"{kind}_track"],
            group=data[f"{kind}_group"],
            n_groups=int(data[f"{kind}_n"][0]),
        )
        for kind in KINDS
        if f"{kind}_track" in data
    }
    return signed, positive, memberships


def _played_only(memberships, positive):  # type: ignore[no-untyped-def]
    """The memberships of groups with at least one track someone played (the others' rows
    dropped, their groups renumbered)."""
    import numpy as np

    from recommendations.engine.training import Memberships

    played = np.zeros(positive.shape[1], dtype=bool)
    played[np.unique(positive.indices)] = True
    kept = {}
    for kind, member in memberships.items():
        warm = np.zeros(member.n_groups, dtype=bool)
        warm[member.group[played[member.track]]] = True
        keep = warm[member.group]
        renumber = np.cumsum(warm) - 1
        kept[kind] = Memberships(
            track=member.track[keep], group=renumber[member.group[keep]], n_groups=int(warm.sum())
        )
    return kept


def fit(args: argparse.Namespace) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
    os.environ.setdefault("DATABASE_URL", "postgresql://postgres:@/unused?host=/nonexistent")
    os.environ.setdefault("DEBUG", "1")
    django.setup()  # the training service's holdout is imported; no query is made
    from threadpoolctl import threadpool_limits

    from recommendations.engine.training import TrainingParams, train
    from recommendations.services.training import fit as service_fit
    from recommendations.services.training import holdout_figures

    signed, positive, memberships = _load(args.path)
    if args.metadata == "played":
        memberships = _played_only(memberships, positive)
    changes: dict[str, object] = {}
    if args.ease_max_tracks:
        changes["ease_max_tracks"] = args.ease_max_tracks
    if args.als_iterations:
        changes["als_iterations"] = args.als_iterations
    params = TrainingParams().replace(**changes)
    rows = sum(m.n_groups for m in memberships.values())
    started = time.perf_counter()
    with threadpool_limits(args.blas_threads, "blas"):
        if args.model == "ease":
            trained = train(positive, memberships, params.replace(als_weight=0.0))
        elif args.model == "als":
            trained = train(signed, memberships, params.replace(ease_weight=0.0))
        elif args.model == "both":
            trained = service_fit(
                positive=positive, signed=signed, memberships=memberships, params=params
            )
        else:
            figures = holdout_figures(
                signed=signed,
                memberships=memberships,
                params=params,
                options={
                    "enabled": True,
                    "holdout": 0.2,
                    "min_listeners": 20,
                    "k": 10,
                    "seed": 0,
                    "blend_max_tracks": args.blend_max_tracks,
                },
            )
            print("figures:", figures)
            trained = None
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    detail = (
        "" if trained is None else " " + str({k: round(v, 1) for k, v in trained.seconds.items()})
    )
    print(
        f"{args.model}: {seconds:.1f} s{detail}, peak RSS {peak:.0f} MB "
        f"(ease_max_tracks {params.ease_max_tracks}, als_iterations {params.als_iterations}, "
        f"metadata {args.metadata}: {rows} rows, blas threads {args.blas_threads}; "
        f"load average {os.getloadavg()[0]:.1f})"
    )


def search(args: argparse.Namespace) -> None:
    """The active version's track vectors: HNSW (its partial index) against an exact scan for
    ``--queries`` listeners' vectors, and the plan PostgreSQL picks for one of them."""

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
    django.setup()
    from django.conf import settings

    from recommendations.models import ListenerVector
    from recommendations.selectors import vectors

    version_id = vectors.active_model_version_id()
    assert version_id is not None, "no active model"
    users = list(
        ListenerVector.objects.filter(model_version_id=version_id)
        .order_by("user_id")
        .values_list("user_id", flat=True)[: args.queries]
    )
    plans: list[str] = []

    def explain(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if not plans and "<=>" in sql and not sql.startswith("EXPLAIN"):
            context["cursor"].execute("EXPLAIN " + sql, params)
            plans.append("\n".join(row[0] for row in context["cursor"].fetchall()))
        return execute(sql, params, many, context)

    for ef in args.ef:
        settings.RECOMMENDER["vectors"]["hnsw_ef_search"] = ef
        print(f"hnsw.ef_search {ef}:")
        _search_pass(args, users, version_id, plans, explain)


def _search_pass(args, users, version_id, plans, explain):  # type: ignore[no-untyped-def]
    import statistics

    import numpy as np
    from django.db import connection

    from recommendations.selectors import vectors

    hnsw_ms, exact_ms, recalls = [], [], []
    for n, user_id in enumerate(users):
        query = vectors.listener_vector(user_id=user_id, model_version_id=version_id)
        started = time.perf_counter()
        if n == 0:
            with connection.execute_wrapper(explain):
                found = vectors.nearest_tracks(vector=query, k=args.k, model_version_id=version_id)
        else:
            found = vectors.nearest_tracks(vector=query, k=args.k, model_version_id=version_id)
        hnsw_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        exact = vectors.nearest_tracks_exact(vector=query, k=args.k, model_version_id=version_id)
        exact_ms.append((time.perf_counter() - started) * 1000)
        edge = exact[-1].distance + 1e-6
        ids = {e.id for e in exact}
        hits = sum(1 for f in found if f.id in ids or f.distance <= edge)
        recalls.append(min(hits, len(exact)) / len(exact))

    def p(values: list[float], q: float) -> float:
        return float(np.percentile(values, q))

    if plans:
        print(plans.pop())
    print(
        f"{len(users)} listener queries, k={args.k}: HNSW p50 {p(hnsw_ms, 50):.1f} / p95 "
        f"{p(hnsw_ms, 95):.1f} ms; exact p50 {p(exact_ms, 50):.1f} / p95 {p(exact_ms, 95):.1f} ms;"
        f" recall@{args.k} mean {statistics.mean(recalls):.3f}, worst {min(recalls):.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    dumping = commands.add_parser("dump")
    dumping.add_argument("path")
    fitting = commands.add_parser("fit")
    fitting.add_argument("path")
    fitting.add_argument("--model", choices=["ease", "als", "both", "holdout"], default="both")
    fitting.add_argument("--ease-max-tracks", type=int)
    fitting.add_argument("--als-iterations", type=int)
    fitting.add_argument("--blas-threads", type=int, default=1)
    fitting.add_argument("--blend-max-tracks", type=int, default=20_000)
    fitting.add_argument("--metadata", choices=["all", "played"], default="all")
    searching = commands.add_parser("search")
    searching.add_argument("--queries", type=int, default=200)
    searching.add_argument("--k", type=int, default=50)
    searching.add_argument("--ef", type=int, nargs="+", default=[100])
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.path)
    elif args.command == "search":
        search(args)
    else:
        fit(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
