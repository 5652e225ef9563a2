"""Start a real Celery worker process against the test database and Redis."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

from devdata.bench.workers import WorkerProcess, start

ROOT = Path(__file__).resolve().parent.parent


def redis_problem() -> str | None:
    """Why the real Redis cannot be used, or None when it can."""
    if not settings.REDIS_URL:
        return "REDIS_URL is not set, so there is no Redis broker"
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis at {settings.REDIS_URL} is unreachable: {exc}"
    if connection.vendor != "postgresql":
        return "a worker process needs the PostgreSQL test database (DATABASE_URL)"
    return None


def start_worker(
    tmp_path: Path,
    *,
    concurrency: int = 1,
    queue: str | None = None,
    broker_url: str | None = None,
    env: dict[str, str] | None = None,
) -> WorkerProcess:
    """A real worker on ``queue`` (a fresh one by default), logging to tmp_path."""
    return start(
        queue=queue or f"lt-test-{uuid.uuid4().hex[:10]}",
        concurrency=concurrency,
        log_dir=tmp_path,
        env=env,
        broker_url=broker_url,
        loglevel="INFO",
    )


def wait_for(check, *, timeout: float = 30, every: float = 0.1):
    """Poll ``check()`` until it returns something truthy, or give up."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    """A private redis-server process that a test may stop and start again."""

    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        ok = wait_for(lambda: _pings(client), timeout=15)
        if not ok:
            raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
