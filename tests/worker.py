"""Start a real Celery worker process against the test database and Redis."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import redis
from celery import Celery
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url_for_workers() -> str:
    """A DATABASE_URL for the database this test run is using."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


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


@dataclass
class Worker:
    queue: str
    name: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill the whole process group (the main process and its children)."""
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            return
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def start_worker(
    tmp_path: Path,
    *,
    concurrency: int = 1,
    queue: str | None = None,
    broker_url: str | None = None,
    env: dict[str, str] | None = None,
) -> Worker:
    """Start ``celery worker`` on ``queue`` (a fresh one by default) and wait
    until it answers a ping through the broker."""
    queue = queue or f"lt-test-{uuid.uuid4().hex[:10]}"
    broker_url = broker_url or settings.REDIS_URL
    name = f"{queue}-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
    log = tmp_path / f"{queue}-{uuid.uuid4().hex[:6]}.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_workers(),
        "REDIS_URL": broker_url,
        **(env or {}),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "-Q",
            queue,
            "-n",
            name,
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = Worker(queue=queue, name=name, process=process, log=log)
    deadline = time.monotonic() + 60
    # A probe app of its own, so that it talks to this worker's broker.
    probe = Celery("probe", broker=broker_url, set_as_current=False)
    probe.conf.update(accept_content=["json"], broker_connection_timeout=2)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited at start:\n{worker.output()}")
        if probe.control.ping(destination=[name], timeout=0.5):
            return worker
    worker.kill()
    raise RuntimeError(f"the worker did not answer within 60 s:\n{worker.output()}")


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
