"""Real processes for the fault tests and the benchmark: a Redis server of the test's
own (to stop and start), Celery workers and beat against it, sharing the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


class RedisServer:
    """redis-server on a free loopback port, without persistence."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class CeleryProcess:
    """`celery -A config worker|beat ...` with the given environment, logging to a file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self._log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *args],
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no chance to give its task back."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self._log.closed:
            self._log.close()

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def worker(env: dict[str, str], log: Path, *extra: str) -> CeleryProcess:
    return CeleryProcess(
        [
            "worker", "--pool=solo", "--without-gossip", "--without-mingle",
            "--without-heartbeat", "--loglevel=INFO", *extra,
        ],
        env,
        log,
    )  # fmt: skip


def beat(env: dict[str, str], folder: Path) -> CeleryProcess:
    return CeleryProcess(
        ["beat", "--loglevel=INFO", "-s", str(folder / "beat-schedule")],
        env,
        folder / "beat.log",
    )


def wait_for(predicate, what: str, logs: list[CeleryProcess], timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    tails = "\n".join(f"--- {p.log_path.name}\n{p.log_tail()}" for p in logs)
    raise AssertionError(f"{what}\n{tails}")


def worker_env(database_url: str, broker_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "DELIVERY_ALLOW_LOOPBACK": "1",
        # Fast rounds, so the faults play out in seconds: the poller every second, a
        # worker's hold on a delivery 3 s, retries after 1-2 s, a task the worker died
        # with back in the queue after 5 s.
        "OUTBOX_DISPATCH_SECONDS": "1",
        "DELIVERY_POLL_SECONDS": "1",
        "DELIVERY_LEASE_SECONDS": "3",
        "DELIVERY_REQUEUE_SECONDS": "2",
        "DELIVERY_RETRY_FIRST_SECONDS": "1",
        "DELIVERY_RETRY_MAX_SECONDS": "2",
        "DELIVERY_READ_TIMEOUT": "20",
        "CELERY_VISIBILITY_TIMEOUT": "5",
        # A file whose scan task was lost (the broker down) is swept up after 2 s.
        "ATTACHMENT_SCAN_LOST_SECONDS": "2",
        "ATTACHMENT_SCAN_LOST_POLL_SECONDS": "1",
        **extra,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env
