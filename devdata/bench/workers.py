"""Start and stop real Celery worker processes (benchmarks and tests)."""

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

from celery import Celery
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


def database_url() -> str:
    """A DATABASE_URL for the database this process is using, so that a worker
    it starts reads and writes the same rows (a test database included)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{auth}{host}:{db.get('PORT') or 5432}/{db['NAME']}"


@dataclass
class WorkerProcess:
    name: str
    queue: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group: the main process and its pool."""
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            return
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Warm shutdown (finish the current task), then kill if it hangs."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def start(
    *,
    queue: str,
    concurrency: int,
    log_dir: Path,
    env: dict[str, str] | None = None,
    broker_url: str | None = None,
    loglevel: str = "WARNING",
    timeout: float = 60,
) -> WorkerProcess:
    """Start ``celery worker`` on ``queue`` against this process's database and
    wait until it answers a ping through the broker."""
    broker_url = broker_url or settings.REDIS_URL
    if broker_url is None:
        raise RuntimeError("A Celery worker needs a broker: set REDIS_URL.")
    name = f"{queue}-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
    log_path = log_dir / f"{name.split('@')[0]}.log"
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
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
            f"--loglevel={loglevel}",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": broker_url, **(env or {})},
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = WorkerProcess(name=name, queue=queue, process=process, log_path=log_path)
    # A probe app of its own (not the current app), talking to this broker.
    probe = Celery("probe", broker=broker_url, set_as_current=False)
    probe.conf.update(accept_content=["json"], broker_connection_timeout=2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The worker exited at start:\n{worker.output()}")
        if probe.control.ping(destination=[name], timeout=0.5):
            return worker
    worker.kill()
    raise RuntimeError(f"The worker did not answer within {timeout:.0f} s:\n{worker.output()}")
