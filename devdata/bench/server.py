"""Start and stop the portal under gunicorn on 127.0.0.1 for a benchmark."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from devdata.bench.workers import database_url

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Graceful stop (SIGTERM to the whole group), then kill if it hangs."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def start(
    *,
    log_dir: Path,
    workers: int = 2,
    threads: int = 2,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Server:
    """gunicorn with ``portal/gunicorn.conf.py`` on a free port of 127.0.0.1,
    against this process's database, with the benchmark's settings (the
    baseline page routed). Workers are not recycled during the run."""
    port = free_port()
    log_path = log_dir / f"gunicorn-{port}.log"
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--config",
            str(ROOT / "portal" / "gunicorn.conf.py"),
            "--max-requests",
            "0",
            "--access-logfile",
            "-",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "devdata.bench.settings",
            "DATABASE_URL": database_url(),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_THREADS": str(threads),
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        },
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(process=process, port=port, log_path=log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited at start:\n{server.output()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{server.output()}")
