"""The launcher behind ``make run``, ``make test``, ``make services``, ``make manage`` and
``make stop``.

``run``: start the embedded services unless ``DATABASE_URL`` / ``REDIS_URL`` are set, migrate,
load the demo data when the database is empty, train the recommender unless a current
model exists, then run the ASGI server (HTTP + WebSockets),
a Celery worker and Celery beat until Ctrl-C, and stop everything it started.

``test``: the same services but a separate instance (``var/test/``), so a test run never
touches the data of a running ``make run``; then pytest with the given arguments.

Each child runs in its own process group: Ctrl-C reaches only this launcher, which then stops
the children in order (and their own children, e.g. Celery's pool) and waits for them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from musicrec import embedded

BASE_DIR = embedded.BASE_DIR
PYTHON = sys.executable
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")
STOP_TIMEOUT = 15.0
#: web processes of ``make run`` unless WEB_CONCURRENCY says otherwise (measured on a 2-core
#: machine: docs/benchmarks.md "Serving recommendations over HTTP")
WEB_CONCURRENCY_DEFAULT = 2
MALLOC_ARENA_MAX = "2"


def _say(message: str) -> None:
    print(f"[musicrec] {message}", flush=True)


def _services(instance: embedded.Instance) -> dict[str, bool]:
    """Start whatever is not given by URL; put the URLs in our environment (for children)."""
    started = {"postgres": False, "redis": False}
    env = os.environ
    if not env.get("DATABASE_URL"):
        url, started["postgres"] = embedded.start_postgres(instance)
        env["DATABASE_URL"] = url
    if not env.get("REDIS_URL"):
        url, started["redis"] = embedded.start_redis(instance)
        env["REDIS_URL"] = url
    if started["postgres"] or started["redis"] or not instance.env_file.exists():
        embedded.write_env_file(
            instance, database_url=env["DATABASE_URL"], redis_url=env["REDIS_URL"]
        )
    # Development and tests: DEBUG for the children from here, never from services.env.
    env.setdefault("DEBUG", "1")
    env[embedded.INSTANCE_VARIABLE] = instance.name
    return started


def _stop_services(instance: embedded.Instance, started: dict[str, bool]) -> None:
    if started.get("redis"):
        embedded.stop_redis(instance)
    if started.get("postgres"):
        embedded.stop_postgres(instance)
    if started.get("redis") or started.get("postgres"):
        instance.env_file.unlink(missing_ok=True)


def _manage(*args: str) -> None:
    subprocess.run([PYTHON, str(BASE_DIR / "manage.py"), *args], check=True, cwd=BASE_DIR)


def _train_recommender() -> None:
    """Train on the demo listeners before serving, so the first listener who signs in gets
    personal recommendations; quick when a current model exists (``--if-stale``). A failed
    training does not stop the site: recommendations fall back to the other sources."""
    _say("recommender: training on the demo listeners unless a current model exists")
    started = time.monotonic()
    # implicit (OpenMP) and numpy's OpenBLAS fight over the cores otherwise (SETUP-NOTES.md)
    env = {"OPENBLAS_NUM_THREADS": "1", **os.environ}
    done = subprocess.run(
        [PYTHON, str(BASE_DIR / "manage.py"), "train_embeddings", "--if-stale", "--no-progress"],
        cwd=BASE_DIR,
        env=env,
    )
    seconds = time.monotonic() - started
    if done.returncode:
        _say(f"recommender: training failed after {seconds:.1f} s; serving without it")
    else:
        _say(f"recommender: ready ({seconds:.1f} s)")


def _terminate(processes: dict[str, subprocess.Popen]) -> None:
    for name, proc in reversed(list(processes.items())):
        if proc.poll() is None:
            _say(f"stopping {name}")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for proc in processes.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def web_concurrency() -> int:
    """How many web (uvicorn) processes ``make run`` starts: ``WEB_CONCURRENCY``, else
    :data:`WEB_CONCURRENCY_DEFAULT` (docs/benchmarks.md "Serving recommendations over HTTP")."""
    text = os.environ.get("WEB_CONCURRENCY", "").strip()
    if not text:
        return WEB_CONCURRENCY_DEFAULT
    try:
        workers = int(text)
    except ValueError:
        raise SystemExit(f"WEB_CONCURRENCY must be a whole number of processes: {text!r}") from None
    if not 1 <= workers <= 64:
        raise SystemExit(f"WEB_CONCURRENCY must be between 1 and 64: {text!r}")
    return workers


def web_command(
    *, host: str, port: str | int, workers: int = 1, access_log: bool = True
) -> list[str]:
    """The web server's command line: uvicorn serving ``musicrec.asgi`` (HTTP + WebSockets),
    with the lifespan events on (the serving state is built at start: ``musicrec.asgi``) and
    ``workers`` processes (each with its own serving state). ``scripts/bench_serve.py``
    measures this command."""
    command = [
        PYTHON, "-m", "uvicorn", "musicrec.asgi:application",
        "--host", str(host), "--port", str(port), "--lifespan", "on",
    ]  # fmt: skip
    if workers > 1:
        command += ["--workers", str(workers)]
    if not access_log:
        command += ["--log-level", "warning", "--no-access-log"]
    return command


def web_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The web processes' environment: ``base`` (ours by default) with glibc's malloc held to
    ``MALLOC_ARENA_MAX`` arenas (2 unless given). Django serves every request of a sync view
    in a thread of its own; without the limit glibc gives new threads arenas of their own (up
    to 8 per core), and a serving process's resident memory grew by ~85 MB under load, ~25 MB
    with 2 arenas (docs/benchmarks.md). glibc reads it when the process starts: it must be in the
    environment, not set from Python."""
    env = dict(os.environ if base is None else base)
    env.setdefault("MALLOC_ARENA_MAX", MALLOC_ARENA_MAX)
    return env


def _pids_file(instance: embedded.Instance) -> Path:
    return instance.root / "stack.pids"


def run() -> int:
    workers = web_concurrency()  # a bad WEB_CONCURRENCY stops here, before anything starts
    instance = embedded.Instance("dev")
    instance.log_dir.mkdir(parents=True, exist_ok=True)
    started = _services(instance)
    processes: dict[str, subprocess.Popen] = {}
    interrupted = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal interrupted
        interrupted = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        _say("migrating the database")
        _manage("migrate", "--noinput", "-v", "0")
        _manage("bootstrap_demo")
        _train_recommender()
        worker_log = instance.log_dir / "celery-worker.log"
        beat_log = instance.log_dir / "celery-beat.log"
        commands = {
            "web": web_command(host=HOST, port=PORT, workers=workers),
            "worker": [
                PYTHON, "-m", "celery", "-A", "musicrec", "worker", "-l", "INFO",
                "--concurrency", "2", "--logfile", str(worker_log),
            ],
            "beat": [
                PYTHON, "-m", "celery", "-A", "musicrec", "beat", "-l", "INFO",
                "--logfile", str(beat_log),
                "--pidfile", str(instance.root / "celerybeat.pid"),
            ],
        }  # fmt: skip
        # Celery closes Django's connection pool around every task in a prefork child, so a pool
        # there would be rebuilt per task: workers and beat use plain connections.
        celery_env = {**os.environ, "DB_POOL": "0"}
        for name, command in commands.items():
            processes[name] = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                start_new_session=True,
                env=web_environment() if name == "web" else celery_env,
            )
        _pids_file(instance).write_text(
            "\n".join(str(proc.pid) for proc in processes.values()) + "\n"
        )
        _say(f"serving on http://{HOST}:{PORT}/  (API docs: http://{HOST}:{PORT}/api/docs/)")
        _say(f"logs: web in this terminal; worker {worker_log}; beat {beat_log}")
        _say(f"database: {os.environ['DATABASE_URL']}")
        _say("press Ctrl-C to stop everything")
        while not interrupted:
            for name, proc in processes.items():
                if proc.poll() is not None:
                    _say(f"{name} exited with status {proc.returncode}; stopping")
                    interrupted = True
                    break
            time.sleep(0.5)
    except subprocess.CalledProcessError as exc:
        _say(f"start-up step failed: {' '.join(map(str, exc.cmd[1:]))}")
        return 1
    finally:
        _terminate(processes)
        _pids_file(instance).unlink(missing_ok=True)
        _stop_services(instance, started)
        _say("stopped")
    return 0


def services() -> int:
    """Start the dev services and leave them running (``make stop`` stops them)."""
    instance = embedded.Instance("dev")
    _services(instance)
    _say(f"DATABASE_URL={os.environ['DATABASE_URL']}")
    _say(f"REDIS_URL={os.environ['REDIS_URL']}")
    _say(
        "manage.py in another terminal: make manage ARGS='createsuperuser', or "
        "MUSICREC_INSTANCE=dev DEBUG=1 .venv/bin/python manage.py createsuperuser"
    )
    return 0


def manage(args: list[str]) -> int:
    """``manage ARGS``: manage.py against the dev services (started when they are not running;
    ``make stop`` stops them), in development mode like ``make run``."""
    _services(embedded.Instance("dev"))
    return subprocess.call([PYTHON, str(BASE_DIR / "manage.py"), *args], cwd=BASE_DIR)


def stop() -> int:
    """Stop a running ``make run`` (its processes) and the dev services."""
    instance = embedded.Instance("dev")
    pids_file = _pids_file(instance)
    if pids_file.exists():
        for line in pids_file.read_text().split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.killpg(int(line), signal.SIGTERM)
        pids_file.unlink(missing_ok=True)
    embedded.stop(instance)
    _say("stopped the dev services")
    return 0


def test(pytest_args: list[str]) -> int:
    # MUSICREC_TEST_INSTANCE lets two test runs on one machine use separate servers.
    instance = embedded.Instance(os.environ.get("MUSICREC_TEST_INSTANCE", "test"))
    started = _services(instance)
    status = 1
    try:
        # nothing of a test run builds the serving state at start unless a test turns it on
        os.environ.setdefault("RECOMMENDER_WARM_UP", "0")
        status = subprocess.call([PYTHON, "-m", "pytest", *pytest_args], cwd=BASE_DIR)
    finally:
        _stop_services(instance, started)
    return status if _no_leftovers(instance, started) else (status or 1)


def _no_leftovers(instance: embedded.Instance, started: dict[str, bool]) -> bool:
    """After a test run: nothing may still run under the folders of what this run started
    (its PostgreSQL and Redis, once stopped, and what single tests started under
    ``var/<instance>/helpers/``). Whatever does is stopped and named, and the run fails."""
    roots = [embedded.helpers_root(instance)]
    if started.get("postgres"):
        roots.append(instance.pg_dir)
    if started.get("redis"):
        roots.append(instance.redis_dir)
    leftovers = embedded.processes_under(roots)
    if not leftovers:
        return True
    _say(f"!!! {len(leftovers)} process(es) under var/{instance.name}/ outlived the test run:")
    for process in leftovers:
        _say(f"!!!   pid {process.pid}: {process.command}")
    embedded.processes_stop(leftovers)
    _say("!!! stopped them; the run FAILS so the test that leaked them gets fixed")
    return False


def _recreate_database(database_url: str) -> None:
    """Drop and re-create the database of ``database_url`` (through the server's ``postgres``
    database), so that a benchmark always starts from an empty catalog."""
    import psycopg
    from psycopg import conninfo, sql

    name = conninfo.conninfo_to_dict(database_url).get("dbname") or embedded.DATABASE_NAME
    admin = conninfo.make_conninfo(database_url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                sql.Identifier(name)
            )
        )


def bench(argv: list[str]) -> int:
    """``bench [--keep] -- COMMAND [ARGS]``: run COMMAND against a fresh, migrated, empty database.

    Always the embedded services of its own instance (``var/bench/``, or
    ``var/$MUSICREC_BENCH_INSTANCE/`` so that two benchmarks can keep separate data):
    DATABASE_URL / REDIS_URL from the environment are ignored, because the database is dropped
    at every run. ``--keep`` keeps the database of the previous run (migrated again), for a
    benchmark that can reuse what it loaded last time (``bench_recommend.py --reuse``).
    """
    keep = "--keep" in argv[: argv.index("--") if "--" in argv else len(argv)]
    if keep:
        argv = [arg for arg in argv if arg != "--keep"]
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        print("usage: python -m musicrec.stack bench [--keep] -- COMMAND [ARGS]")
        return 2
    instance = embedded.Instance(os.environ.get("MUSICREC_BENCH_INSTANCE", "bench"))
    for key in ("DATABASE_URL", "REDIS_URL"):
        if os.environ.pop(key, None):
            _say(f"ignoring {key}: the benchmark uses its own services under var/{instance.name}/")
    started = _services(instance)
    try:
        if keep:
            _say(f"keeping the database of the last run (var/{instance.name}/)")
        else:
            _say(f"re-creating an empty database (var/{instance.name}/)")
            _recreate_database(os.environ["DATABASE_URL"])
        _manage("migrate", "--noinput", "-v", "0")
        return subprocess.call(command)
    except subprocess.CalledProcessError as exc:
        _say(f"start-up step failed: {' '.join(map(str, exc.cmd[1:]))}")
        return 1
    finally:
        _stop_services(instance, started)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "services", "stop", "bench", "manage"}:
        print(
            "usage: python -m musicrec.stack run|test|services|stop [pytest args]\n"
            "       python -m musicrec.stack manage MANAGE.PY-ARGS\n"
            "       python -m musicrec.stack bench [--keep] -- COMMAND [ARGS]"
        )
        return 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        return run()
    if command == "manage":
        return manage(rest)
    if command == "test":
        return test(rest)
    if command == "bench":
        return bench(rest)
    if command == "services":
        return services()
    return stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
