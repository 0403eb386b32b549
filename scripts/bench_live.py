"""Live-update latency: from a history change to the messages reaching a WebSocket client.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m musicrec.stack bench -- \
        .venv/bin/python scripts/bench_live.py [--listeners 4] [--changes 40]

The launcher gives a fresh, migrated database (``var/bench/``). This script loads the demo
catalog, creates ``--listeners`` listeners, starts the ASGI server (uvicorn, as ``make run``
does, production mode) and one Celery worker (as ``make run`` does, concurrency 2), and connects
each listener over ``/ws/recommendations/?token=…``. Then, one listener at a time, it adds a
track to the history (``POST /api/v1/history/``) and times, from sending the request:
``history.changed`` (sent by the web process after the commit), and ``recommendations.update``
(computed in the worker through ``recommendation_list_serve`` and broadcast through Redis). A
``refresh`` round trip is timed the same way. No model is trained: the lists come from content,
demographic and popularity (the worker's first list builds its serving state, not timed).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchlib import django_setup_with_demo_catalog

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261130

SERVER_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "THROTTLE_USER": "10000000/minute",
    "LOG_LEVEL": "ERROR",
    "PYTHONWARNINGS": "ignore::UserWarning",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def _setup(listeners: int) -> tuple[list[str], list[int]]:
    os.environ.update(SERVER_ENV)
    django_setup_with_demo_catalog()
    from django.db import connections
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from catalog.models import Track
    from history.models import HistoryEntry

    tokens = []
    for number in range(1, listeners + 1):
        user, _ = User.objects.get_or_create(
            username=f"live-{number:02d}", defaults={"email": f"live-{number:02d}@example.com"}
        )
        HistoryEntry.objects.filter(user=user).delete()
        tokens.append(str(RefreshToken.for_user(user).access_token))
    track_ids = list(Track.objects.order_by("pk").values_list("pk", flat=True))
    connections.close_all()
    return tokens, track_ids


def _start(port: int) -> list[subprocess.Popen]:
    server = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "musicrec.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--lifespan", "off", "--log-level", "warning",
            "--no-access-log",
        ],
        cwd=ROOT, env=os.environ, start_new_session=True,
    )  # fmt: skip
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "musicrec", "worker", "-l", "WARNING",
            "--concurrency", "2",
        ],
        cwd=ROOT, env={**os.environ, "DB_POOL": "0"}, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health/")
            if conn.getresponse().status == 200:
                return [server, worker]
        except OSError:
            pass
        time.sleep(0.25)
    for proc in (server, worker):
        proc.terminate()
    raise SystemExit("the server did not answer /health/ within 60 s")


def _add(port: int, token: str, track_id: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "POST",
        "/api/v1/history/",
        body=json.dumps({"track_id": track_id}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


async def _until(ws, kind: str, timeout: float = 60) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] == kind:
            return message


async def _run(port: int, tokens: list[str], tracks: list[int], changes: int) -> dict:
    import websockets

    rng = random.Random(SEED)
    url = f"ws://127.0.0.1:{port}/ws/recommendations/?token="
    sockets = [await websockets.connect(url + token, max_size=2**24) for token in tokens]
    times: dict[str, list[float]] = {"history.changed": [], "update": [], "refresh": []}
    loop = asyncio.get_running_loop()
    # warm-up: the worker's first list builds its serving state
    await sockets[0].send(json.dumps({"type": "refresh"}))
    await _until(sockets[0], "recommendations.update", timeout=300)
    for number in range(changes):
        which = number % len(sockets)
        ws, token = sockets[which], tokens[which]
        started = time.perf_counter()
        status = await loop.run_in_executor(None, _add, port, token, rng.choice(tracks))
        if status not in (200, 201):
            raise SystemExit(f"history add answered {status}")
        await _until(ws, "history.changed")
        times["history.changed"].append((time.perf_counter() - started) * 1000)
        update = await _until(ws, "recommendations.update")
        times["update"].append((time.perf_counter() - started) * 1000)
        assert update["reason"] == "history" and update["results"]
        await asyncio.sleep(0.2)
    for ws in sockets[1:]:  # one refresh per listener (the first one's was the warm-up)
        started = time.perf_counter()
        await ws.send(json.dumps({"type": "refresh"}))
        await _until(ws, "recommendations.update")
        times["refresh"].append((time.perf_counter() - started) * 1000)
    for ws in sockets:
        await ws.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listeners", type=int, default=4)
    parser.add_argument("--changes", type=int, default=40)
    args = parser.parse_args()

    tokens, tracks = _setup(args.listeners)
    port = _free_port()
    processes = _start(port)
    try:
        times = asyncio.run(_run(port, tokens, tracks, args.changes))
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            proc.wait(30)
    print(f"{args.listeners} listeners connected, {args.changes} history adds (one at a time)")
    for label, values in (
        ("POST → history.changed", times["history.changed"]),
        ("POST → update", times["update"]),
        ("refresh → update", times["refresh"]),
    ):
        print(
            f"{label:<24} n={len(values):>3}  p50 {statistics.median(values):7.1f} ms  "
            f"p95 {_percentile(values, 95):7.1f} ms  max {max(values):7.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
