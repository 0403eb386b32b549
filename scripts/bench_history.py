"""History latency benchmark: p50/p95 of ``POST /api/v1/history/`` under concurrent clients.

    .venv/bin/python -m musicrec.stack bench -- .venv/bin/python scripts/bench_history.py

The launcher gives a fresh, migrated, empty database (``var/bench/``). This script loads the demo
catalog (3,236 tracks), creates one listener per client, starts the ASGI server the way
``make run`` does (uvicorn, one process unless ``--workers``) in production mode (DEBUG=0) with
the per-user throttle raised out of the way, and lets ``--clients`` threads (default 16) each
send ``--requests`` adds (default 300) as their own listener over one keep-alive connection,
each request sent as soon as the previous answer arrived (a closed loop: the server is kept
saturated, so latency is about clients ÷ throughput), or after a pause of ``--think-ms`` on
average (exponentially distributed, so the clients do not march in step: listeners who pause
between adds, i.e. latency at a load the server keeps up with).

Each client adds distinct tracks in a random order; when its history is full it clears it
(``DELETE /api/v1/history/``, not timed) and goes on, so the timed requests are the real mix
of a filling history: mostly 201 adds, the 45th–50th with their warning, plus one 51st add per
fill that is refused with a 400. Latency is measured by the client, from sending the request to
having read the whole answer. The first ``--warmup`` requests of each client are not counted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from benchlib import django_setup_with_demo_catalog

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261128


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def _setup(clients: int) -> tuple[list[str], list[int]]:
    """Catalog, listeners and one access token per listener (no HTTP sign-in: its throttle is
    not what is measured)."""
    os.environ.update(SERVER_ENV)
    django_setup_with_demo_catalog()
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from catalog.models import Track

    tokens = []
    for number in range(1, clients + 1):
        user, _ = User.objects.get_or_create(
            username=f"bench-{number:02d}", defaults={"email": f"bench-{number:02d}@example.com"}
        )
        tokens.append(str(RefreshToken.for_user(user).access_token))
    track_ids = list(Track.objects.order_by("pk").values_list("pk", flat=True))
    from django.db import connections

    connections.close_all()
    return tokens, track_ids


# Production mode for this script and the server it starts (tokens are signed with this key).
SERVER_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "THROTTLE_USER": "10000000/minute",
    "LOG_LEVEL": "ERROR",  # not a line per refused 51st add
    "PYTHONWARNINGS": "ignore::UserWarning",  # WhiteNoise: no collectstatic here
}


def _start_server(port: int, workers: int) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "uvicorn", "musicrec.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--lifespan", "off",
        "--log-level", "warning", "--no-access-log", "--workers", str(workers),
        # clients that pause keep their connection, as they would to a proxy in front
        "--timeout-keep-alive", "300",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=os.environ)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health/")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode}")
        time.sleep(0.25)
    server.terminate()
    raise SystemExit("the server did not answer /health/ within 60 s")


class Client(threading.Thread):
    def __init__(
        self,
        *,
        port: int,
        token: str,
        tracks: list[int],
        requests: int,
        warmup: int,
        think: float,
        seed: int,
    ) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.tracks = tracks
        self.requests = requests
        self.warmup = warmup
        self.think = think
        self.rng = random.Random(seed)
        self.latencies: dict[int, list[float]] = {}
        self.statuses: Counter[int] = Counter()
        self.error: BaseException | None = None

    def _send(self, conn: http.client.HTTPConnection, method: str, body: bytes | None) -> int:
        conn.request(method, "/api/v1/history/", body=body, headers=self.headers)
        response = conn.getresponse()
        response.read()
        return response.status

    def run(self) -> None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self._send(conn, "DELETE", None)
            position = 0
            for number in range(self.warmup + self.requests):
                body = json.dumps({"track_id": self.tracks[position % len(self.tracks)]}).encode()
                started = time.perf_counter()
                status = self._send(conn, "POST", body)
                elapsed = time.perf_counter() - started
                if number >= self.warmup:
                    self.statuses[status] += 1
                    self.latencies.setdefault(status, []).append(elapsed * 1000)
                if status == 400:  # full: start the next fill
                    self._send(conn, "DELETE", None)
                else:
                    position += 1
                if self.think:  # exponential pauses: the clients do not march in step
                    time.sleep(self.rng.expovariate(1 / self.think))
            conn.close()
        except BaseException as error:  # reported by the main thread
            self.error = error


def _line(label: str, values: list[float]) -> str:
    return (
        f"{label:<22} n={len(values):>5}  p50 {statistics.median(values):6.1f} ms  "
        f"p95 {_percentile(values, 95):6.1f} ms  p99 {_percentile(values, 99):6.1f} ms  "
        f"max {max(values):6.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=300, help="timed adds per client")
    parser.add_argument("--warmup", type=int, default=20, help="untimed adds per client first")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--think-ms", type=float, default=0, help="pause of each client between adds"
    )
    args = parser.parse_args()

    tokens, track_ids = _setup(args.clients)
    port = _free_port()
    server = _start_server(port, args.workers)
    rng = random.Random(SEED)
    try:
        clients = [
            Client(
                port=port,
                token=token,
                tracks=rng.sample(track_ids, len(track_ids)),
                requests=args.requests,
                warmup=args.warmup,
                think=args.think_ms / 1000,
                seed=SEED + number,
            )
            for number, token in enumerate(tokens)
        ]
        started = time.perf_counter()
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    errors = [client.error for client in clients if client.error is not None]
    if errors:
        raise SystemExit(f"{len(errors)} client(s) failed: {errors[0]!r}")

    by_status: dict[int, list[float]] = {}
    statuses: Counter[int] = Counter()
    for client in clients:
        statuses.update(client.statuses)
        for status, values in client.latencies.items():
            by_status.setdefault(status, []).extend(values)
    unexpected = {status: n for status, n in statuses.items() if status not in {200, 201, 400}}
    if unexpected:
        raise SystemExit(f"unexpected answers {unexpected}: the figures would mean nothing")
    every = [value for values in by_status.values() for value in values]
    total = args.clients * (args.warmup + args.requests)
    print(
        f"POST /api/v1/history/: {args.clients} concurrent clients (one listener each), "
        f"{args.requests} timed adds each, think time {args.think_ms:g} ms, "
        f"uvicorn workers={args.workers}, DEBUG=0"
    )
    print(
        f"statuses: {dict(sorted(statuses.items()))}; "
        f"throughput ≈ {total / wall:,.0f} adds/s (warm-up included)"
    )
    print(_line("all timed requests", every))
    for status in sorted(by_status):
        print(_line(f"  status {status}", by_status[status]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
