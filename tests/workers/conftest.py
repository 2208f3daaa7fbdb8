"""Real parts for the worker tests: a private redis-server on a free port (the shared one on
:6379 is never touched), real ``celery -A helpdesk worker --beat`` subprocesses on it, and the
pytest PostgreSQL test database (tests use ``django_db(transaction=True)`` so the workers see
committed rows). The pytest process itself publishes to the private Redis too."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from helpdesk.celery import app

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@dataclass
class RedisServer:
    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

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
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for(self.ping, 10), "redis-server did not start"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(port=free_port(), workdir=tmp_path)
    server.start()
    yield server
    server.kill()


def database_url() -> str:
    """The pytest test database (NAME is the test DB's) as a URL for the workers."""
    s = connection.settings_dict
    user = quote(s.get("USER") or "")
    password = quote(s.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


@dataclass
class Workers:
    redis: RedisServer
    tmp: Path
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def env(self, name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="helpdesk.settings.worker_test",
            DATABASE_URL=database_url(),
            REDIS_URL=self.redis.url,
            HELPDESK_VAR_DIR=str(self.tmp / name),
            PYTHONUNBUFFERED="1",
        )
        return env

    def start(self, name: str = "w1", *, beat: bool = True, concurrency: int = 2) -> None:
        (self.tmp / name).mkdir(exist_ok=True)
        log = self.log_path(name)
        args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "helpdesk",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        if beat:
            args += ["--beat", "--schedule", str(self.tmp / name / "celerybeat-schedule")]
        with open(log, "ab") as out:
            process = subprocess.Popen(
                args,
                cwd=ROOT,
                env=self.env(name),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: SIGKILL reaches the pool too
            )
        self.running[name] = process
        ready = wait_for(lambda: b" ready." in log.read_bytes() or process.poll() is not None, 60)
        assert ready and process.poll() is None, self.tail(name)

    def log_path(self, name: str) -> Path:
        return self.tmp / f"{name}.log"

    def tail(self, name: str, n: int = 4000) -> str:
        path = self.log_path(name)
        return path.read_text(errors="replace")[-n:] if path.exists() else ""

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.running.pop(name, None)
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.kill(name, signal.SIGTERM)


@pytest.fixture
def workers(redis_server: RedisServer, tmp_path: Path) -> Iterator[Workers]:
    """Starts nothing by itself; points this process's Celery app at the private Redis."""
    conf = app.conf
    saved = (conf.broker_url, conf.broker_transport_options)
    conf.broker_url = redis_server.url
    conf.broker_transport_options = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
    app._after_fork()  # drop pooled connections to the previous broker
    pool = Workers(redis=redis_server, tmp=tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()
        conf.broker_url, conf.broker_transport_options = saved
        app._after_fork()
